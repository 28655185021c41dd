#!/usr/bin/env bash
# Load a dump made by deploy/backup.sh into a MariaDB/MySQL database.
#
#   DATABASE_URL=mysql://... deploy/restore.sh var/backups/smartcart-20250101T031500Z.sql.gz \
#       [--database NAME] [--replace]
#
# The server and login come from DATABASE_URL (or .env, as for deploy/backup.sh); the target
# is its database, or NAME. A target that already holds tables is refused unless --replace is
# given (the dump then drops and recreates each of its tables; tables it does not know are
# left alone, so restore into an empty database when you can). A missing target is created
# as utf8mb4, when the login may.
#
# Restore drill (docs/running-a-store.md, "Backups"): restore the latest dump into a scratch database with
# --database, and check it, on a schedule: a backup is only known to work once restored.
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
# shellcheck source=deploy/db-url.sh
source "$HERE/db-url.sh"

usage="usage: $0 DUMP.sql.gz [--database NAME] [--replace]"
dump_file=""
target=""
replace=0
while (($#)); do
    case $1 in
    --database)
        [[ $# -ge 2 ]] || die "$usage"
        target=$2
        shift 2
        ;;
    --replace)
        replace=1
        shift
        ;;
    -*) die "$usage" ;;
    *)
        [[ -z $dump_file ]] || die "$usage"
        dump_file=$1
        shift
        ;;
    esac
done
[[ -n $dump_file ]] || die "$usage"
[[ -f $dump_file ]] || die "no such dump: $dump_file"
gzip -t "$dump_file" 2>/dev/null || die "$dump_file is not a complete gzip file"
DATABASE_URL=$(db_url_default)
[[ -n $DATABASE_URL ]] || die "DATABASE_URL is not set (nor in .env): name the server to restore to"
db_url_parse "$DATABASE_URL"
target=${target:-$DB_NAME}
[[ $target =~ ^[A-Za-z0-9_]+$ ]] || die "database names here are letters, digits and _ only"
client=$(db_tool mariadb mysql)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
options=$(db_option_file "$work")
sql() {
    "$client" --defaults-extra-file="$options" --default-character-set=utf8mb4 "$@"
}

exists=$(sql -N -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '$target'")
if ((exists == 0)); then
    sql -e "CREATE DATABASE \`$target\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci" ||
        die "cannot create database $target with this login; create it (utf8mb4) first"
else
    tables=$(sql -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$target'")
    if ((tables > 0 && replace == 0)); then
        die "database $target already has $tables tables; restore into an empty one, or add --replace"
    fi
fi

gzip -dc "$dump_file" | sql "$target"
tables=$(sql -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$target'")
echo "restored $dump_file into $target ($tables tables)"
