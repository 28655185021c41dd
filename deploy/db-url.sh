# shellcheck shell=bash
# Shared by deploy/backup.sh and deploy/restore.sh: the store's DATABASE_URL turned into a
# MariaDB client option file, so the password never appears on a command line (where `ps`
# shows it to every user of the machine).

die() {
    echo "ERROR: $*" >&2
    exit 1
}

# url_decode TEXT: undo %XX escapes (a password with @ : / must be written %40 %3A %2F).
url_decode() {
    local text=${1//\\/\\\\}
    printf '%b' "${text//%/\\x}"
}

# db_url_parse URL: sets DB_USER, DB_PASSWORD, DB_HOST, DB_PORT, DB_NAME.
db_url_parse() {
    local re='^mysql(\+[a-z]+)?://([^:@/]*)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?/([^?/]+)(\?.*)?$'
    [[ $1 =~ $re ]] ||
        die "DATABASE_URL must be mysql://user:password@host[:port]/name (it backs up MariaDB/MySQL)"
    DB_USER=$(url_decode "${BASH_REMATCH[2]}")
    DB_PASSWORD=$(url_decode "${BASH_REMATCH[4]}")
    DB_HOST=${BASH_REMATCH[5]}
    DB_PORT=${BASH_REMATCH[7]:-3306}
    DB_NAME=$(url_decode "${BASH_REMATCH[8]}")
}

# db_option_file DIR: writes DIR/client.cnf (mode 600) for --defaults-extra-file; echoes its path.
db_option_file() {
    local file=$1/client.cnf value
    value=${DB_PASSWORD//\\/\\\\}
    value=${value//\"/\\\"}
    (
        umask 077
        printf '[client]\nuser="%s"\npassword="%s"\nhost="%s"\nport=%s\nprotocol=tcp\n' \
            "$DB_USER" "$value" "$DB_HOST" "$DB_PORT" >"$file"
    )
    echo "$file"
}

# db_tool NAME...: the first of the given client programs that is installed.
db_tool() {
    local name
    for name in "$@"; do
        command -v "$name" && return 0
    done
    die "needs $1 (Debian: apt-get install mariadb-client)"
}

# db_url_default: DATABASE_URL from the environment or, as the settings read it, from the .env
# file next to manage.py (so cron needs no copy of the password). Echoes it; empty when unset.
db_url_default() {
    local env_file line
    env_file=$(dirname "${BASH_SOURCE[0]}")/../.env
    if [[ -n ${DATABASE_URL:-} ]]; then
        echo "$DATABASE_URL"
    elif [[ -f $env_file ]] && line=$(grep -E '^[[:space:]]*DATABASE_URL=' "$env_file" | tail -n 1); then
        line=${line#*=}
        line=${line#[\"\']}
        echo "${line%[\"\']}"
    fi
}
