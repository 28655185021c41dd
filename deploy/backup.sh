#!/usr/bin/env bash
# A consistent dump of the store's MariaDB/MySQL database: gzipped, checked, rotated.
#
#   DATABASE_URL=mysql://smartcart:password@db.internal:3306/smartcart deploy/backup.sh
#
# Environment: DATABASE_URL (the store's own; when unset, read from the .env next to
# manage.py, as the settings do), BACKUP_DIR (default var/backups), BACKUP_KEEP (the newest
# dumps kept, default 14; older ones are deleted). Prints the new dump's path. Run it from
# cron or a systemd timer (docs/running-a-store.md, "Backups").
#
# --single-transaction dumps every InnoDB table from one snapshot without locking the store,
# so a backup taken while shoppers pay is consistent (an order never without its lines).
# --routines and --triggers keep stored code, if any is ever added. The dump names no
# database, so deploy/restore.sh can load it into any (a scratch one, to test it).
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
# shellcheck source=deploy/db-url.sh
source "$HERE/db-url.sh"

BACKUP_DIR=${BACKUP_DIR:-$HERE/../var/backups}
BACKUP_KEEP=${BACKUP_KEEP:-14}
[[ $BACKUP_KEEP =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a whole number of at least 1"
DATABASE_URL=$(db_url_default)
[[ -n $DATABASE_URL ]] || die "DATABASE_URL is not set (nor in .env): name the database to back up"
db_url_parse "$DATABASE_URL"
dump=$(db_tool mariadb-dump mysqldump)

umask 077 # dumps hold shoppers' personal data
mkdir -p "$BACKUP_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"; rm -f "${partial:-}"' EXIT
options=$(db_option_file "$work")

final=$BACKUP_DIR/$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ).sql.gz
while [[ -e $final ]]; do # two backups within one second: the second waits for the next
    sleep 0.2
    final=$BACKUP_DIR/$DB_NAME-$(date -u +%Y%m%dT%H%M%SZ).sql.gz
done
partial=$BACKUP_DIR/.$(basename "$final").partial
"$dump" --defaults-extra-file="$options" --single-transaction --routines --triggers \
    --hex-blob --no-tablespaces --default-character-set=utf8mb4 "$DB_NAME" |
    gzip -6 >"$partial"
# A dump cut short (server gone, disk full) lacks the closing line: never keep it as a backup.
gzip -dc "$partial" | tail -n 1 | grep -q '^-- Dump completed' ||
    die "the dump of $DB_NAME is incomplete; nothing was kept"
mv "$partial" "$final"
partial=""

# Rotation: the newest BACKUP_KEEP dumps of this database stay (names sort by time).
find "$BACKUP_DIR" -maxdepth 1 -name "$DB_NAME-*.sql.gz" -printf '%f\n' | sort -r |
    tail -n +"$((BACKUP_KEEP + 1))" | while read -r old; do
    rm -f -- "${BACKUP_DIR:?}/$old"
done
echo "$final"
