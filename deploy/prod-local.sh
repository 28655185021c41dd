#!/usr/bin/env bash
# The production stack without containers, on loopback, from the distribution's packages:
# our own MariaDB and Redis, then (with SMARTCART_MODE=production) migrate, collectstatic, the
# demo catalog, WEB_NODES gunicorn web nodes (WSGI), the live stream's gunicorn pool (ASGI,
# uvicorn workers), one Celery worker, Celery beat, and nginx in front: TLS with a certificate
# made at the first start, /static/ and /media/ from disk, /cart/events/ to the stream pool and
# everything else to the web nodes.
#
#   deploy/prod-local.sh start [--background]   `make prod-local`; stays in the foreground and
#                                               stops what it started on Ctrl-C / TERM.
#                                               --background (or PROD_LOCAL_BACKGROUND=1)
#                                               returns once /readyz answers 200.
#   deploy/prod-local.sh stop                   `make prod-local-stop`
#   deploy/prod-local.sh status
#   deploy/prod-local.sh env                    the running stack's environment, as `export`s
#   deploy/prod-local.sh manage ARGS...         manage.py with that environment
#   deploy/prod-local.sh sql ARGS...            the mariadb client as the instance's root
#
# Environment: PORT (nginx's HTTPS port, 8443), WEB_NODES (1), WEB_WORKERS (a node: 2 a CPU + 1,
# at most 9), WEB_WORKER_CLASS (sync), WEB_THREADS (4, gthread only), STREAM_WORKERS (1),
# WORKER_CONCURRENCY (2), PROD_LOCAL_DB_PORT (33307), PROD_LOCAL_REDIS_PORT (36380),
# PROD_LOCAL_DIR (var/prod-local), PROD_LOCAL_RESTART_DELAY (seconds before a dead web node is
# started again, 5). A busy database or Redis port is swapped for a free one; a busy PORT is an
# error; the web nodes and the stream pool take free loopback ports. Everything lives under
# PROD_LOCAL_DIR: data, logs, pid files, the generated SECRET_KEY, database password and TLS
# certificate. Variables it does not set (STRIPE_*, STORE_NAME, ...) come from the environment or
# .env.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=deploy/services.sh
source deploy/services.sh

SELF=$ROOT/deploy/prod-local.sh
STATE_DIR=$(realpath -m "${PROD_LOCAL_DIR:-$ROOT/var/prod-local}")
RUN_DIR=$STATE_DIR/run
LOG_DIR=$STATE_DIR/logs
PID_DIR=$STATE_DIR/pids
ENV_FILE=$STATE_DIR/env
READY_FILE=$RUN_DIR/ready
SUPERVISOR_PID_FILE=$PID_DIR/prod-local.pid
MARIADB_DATA=$STATE_DIR/mariadb
MARIADB_ROOT_AUTH=socket
BIN=$ROOT/.venv/bin
PORT=${PORT:-8443}
WEB_NODES=${WEB_NODES:-1}
# Unset: deploy/gunicorn.conf.py's defaults (read from it at start: web_settings).
WEB_WORKERS=${WEB_WORKERS:-}
WEB_WORKER_CLASS=${WEB_WORKER_CLASS:-}
WEB_THREADS=${WEB_THREADS:-4}
STREAM_WORKERS=${STREAM_WORKERS:-1}
RESTART_DELAY=${PROD_LOCAL_RESTART_DELAY:-5}
TLS_DIR=$STATE_DIR/tls
NGINX_DIR=$STATE_DIR/nginx
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-2}
MARIADB_PORT=${PROD_LOCAL_DB_PORT:-33307}
REDIS_PORT=${PROD_LOCAL_REDIS_PORT:-36380}
START_TIMEOUT=${PROD_LOCAL_START_TIMEOUT:-300}
DB_NAME=smartcart
DB_USER=smartcart
[[ $WEB_NODES =~ ^[1-9][0-9]*$ ]] || { echo "ERROR: WEB_NODES must be 1 or more" >&2; exit 1; }
# Started in this order, stopped in the reverse one (nginx first: no new requests come in).
# The list of a running stack is kept in run/services for `stop` and `status`.
SERVICES=(mariadb redis)
for ((node = 1; node <= WEB_NODES; node++)); do
    SERVICES+=("web-$node")
done
SERVICES+=(stream worker beat nginx)
declare -A PIDS=()
declare -A WEB_PORTS=()
JOBS=() # one-off setup commands (migrate, collectstatic, ...), stopped too if still running
# program_of NAME: what the process of service NAME runs (pid_alive checks its command line).
program_of() {
    case $1 in
    mariadb) echo mariadbd ;;
    redis) echo redis-server ;;
    web-* | stream) echo gunicorn ;;
    worker | beat) echo celery ;;
    nginx) echo nginx ;;
    prod-local) echo prod-local.sh ;;
    *) echo "$1" ;;
    esac
}

say() {
    printf '==> %s\n' "$*"
}

# --- preconditions --------------------------------------------------------------------------

# Debian keeps mariadbd in /usr/sbin, which is not on every user's PATH.
PATH=$PATH:/usr/sbin:/usr/local/sbin

packages_check() {
    local missing=() cmd
    declare -A package=([mariadbd]=mariadb-server [mariadb-install-db]=mariadb-server
        [mariadb]=mariadb-client [mariadb-admin]=mariadb-client
        [redis-server]=redis-server [redis-cli]=redis-tools [setsid]=util-linux [nginx]=nginx
        [openssl]=openssl)
    for cmd in mariadbd mariadb-install-db mariadb mariadb-admin redis-server redis-cli setsid \
        nginx openssl; do
        command -v "$cmd" >/dev/null || missing+=("${package[$cmd]}")
    done
    if ((${#missing[@]})); then
        echo "make prod-local runs MariaDB, Redis and nginx from the distribution's packages;" >&2
        echo "these are missing. On Debian or Ubuntu:" >&2
        echo "    sudo apt-get install $(printf '%s\n' "${missing[@]}" | sort -u | xargs)" >&2
        exit 1
    fi
    [[ -x $BIN/python ]] || die "no .venv/ here: run it as \`make prod-local\`, which creates it"
    if ! "$BIN/python" -c 'import MySQLdb' 2>/dev/null; then
        if ! command -v pkg-config >/dev/null || ! pkg-config --exists libmariadb 2>/dev/null ||
            ! command -v gcc >/dev/null; then
            echo "The MySQL driver (mysqlclient) is built from source and needs:" >&2
            echo "    sudo apt-get install libmariadb-dev pkg-config gcc" >&2
            exit 1
        fi
        say "Installing the MySQL driver (requirements/mysql.txt) into .venv/"
        "$BIN/python" -m pip install --quiet --disable-pip-version-check -r requirements/mysql.txt
    fi
    if ! ldconfig -p 2>/dev/null | grep -q libzbar; then
        echo "note: libzbar0 is not installed; the barcode decoder runs without its pyzbar" \
            "fallback (apt-get install libzbar0)." >&2
    fi
}

# pid_alive NAME PID: PID runs and is the program NAME was started as (not a recycled pid).
pid_alive() {
    local name=$1 pid=$2
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(program_of "$name")"
}

pid_from_file() {
    cat "$PID_DIR/$1.pid" 2>/dev/null || true
}

# --- secrets and the environment ------------------------------------------------------------

# secret_get NAME: a random value generated once and kept (mode 600) under PROD_LOCAL_DIR.
secret_get() {
    local file=$STATE_DIR/$1
    if [[ ! -s $file ]]; then
        (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$file")
    fi
    cat "$file"
}

# web_settings: the web workers' number and class as deploy/gunicorn.conf.py settles them from
# this environment, its defaults where unset: one source for the workers and the summary.
web_settings() {
    local settled='import runpy
settings = runpy.run_path("deploy/gunicorn.conf.py")
print(settings["workers"], settings["worker_class"])'
    WEB_WORKERS=$WEB_WORKERS WEB_WORKER_CLASS=$WEB_WORKER_CLASS "$BIN/python" -c "$settled"
}

env_write() {
    local secret_key db_password
    secret_key=$(secret_get secret_key)
    db_password=$(secret_get db_password)
    read -r WEB_WORKERS WEB_WORKER_CLASS < <(web_settings)
    [[ -n $WEB_WORKER_CLASS ]] || die "could not read the web workers' settings (deploy/gunicorn.conf.py)"
    # Production mode, behind nginx ending TLS as a real store's proxy does (HTTPS redirect and
    # Secure cookies on), with one difference: no HSTS, since the certificate is a self-signed
    # one for loopback and a browser must not be told to insist on HTTPS for localhost.
    # Email goes to .eml files under mail/, written by the Celery worker from the outbox: the
    # same path as SMTP up to the last hop. EMAIL_HOST is set empty so a .env cannot turn it on.
    (
        umask 077
        {
            printf 'export %s=%q\n' \
                SMARTCART_MODE production \
                SECRET_KEY "$secret_key" \
                DEBUG false \
                ALLOWED_HOSTS "127.0.0.1,localhost" \
                CSRF_TRUSTED_ORIGINS "https://127.0.0.1:$PORT,https://localhost:$PORT" \
                SITE_URL "https://127.0.0.1:$PORT" \
                SECURE_HSTS_SECONDS 0 \
                PAYMENT_GATEWAY "${PAYMENT_GATEWAY:-$([[ -n ${STRIPE_SECRET_KEY:-} ]] && echo stripe || echo test)}" \
                DATABASE_URL "mysql://$DB_USER:$db_password@127.0.0.1:$MARIADB_PORT/$DB_NAME" \
                CELERY_BROKER_URL "redis://127.0.0.1:$REDIS_PORT/0" \
                REDIS_URL "redis://127.0.0.1:$REDIS_PORT/1" \
                STATIC_ROOT "$STATE_DIR/static" \
                MEDIA_ROOT "$STATE_DIR/media" \
                EMAIL_HOST "" \
                EMAIL_FILE_PATH "$STATE_DIR/mail" \
                WEB_WORKERS "$WEB_WORKERS" \
                WEB_WORKER_CLASS "$WEB_WORKER_CLASS" \
                WEB_THREADS "$WEB_THREADS" \
                STREAM_WORKERS "$STREAM_WORKERS" \
                WEB_GRACEFUL_TIMEOUT 10 \
                PROD_LOCAL_URL "https://127.0.0.1:$PORT/" \
                PROD_LOCAL_CA_FILE "$TLS_DIR/cert.pem" \
                PROD_LOCAL_WEB_BINDS "$(web_binds)" \
                PROD_LOCAL_STREAM_BIND "127.0.0.1:$STREAM_PORT"
        } >"$ENV_FILE"
    )
}

# web_binds: "127.0.0.1:P1 127.0.0.1:P2 ...", the web nodes' addresses in node order.
web_binds() {
    local node binds=()
    for ((node = 1; node <= WEB_NODES; node++)); do
        binds+=("127.0.0.1:${WEB_PORTS[$node]}")
    done
    echo "${binds[*]}"
}

env_load() {
    [[ -f $ENV_FILE ]] || die "prod-local has never started here ($STATE_DIR)"
    # shellcheck source=/dev/null
    source "$ENV_FILE"
}

# --- the stack ------------------------------------------------------------------------------

mariadb_up() {
    # utf8mb4 throughout, as the container's MariaDB (docker-compose.yml) is configured.
    # PROD_LOCAL_MARIADB_OPTIONS adds mariadbd options; the tests use it to trade durability
    # for speed. The default keeps MariaDB's durable settings, as a real store would.
    # shellcheck disable=SC2086
    mariadb_start --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_520_ci \
        ${PROD_LOCAL_MARIADB_OPTIONS:-}
    PIDS[mariadb]=$MARIADB_PID
    echo "$MARIADB_PID" >"$PID_DIR/mariadb.pid"
    # The password is set again on every start, so it always matches the kept one. The test
    # databases make `make test` usable against this instance too; the restore databases are
    # for the restore drill (deploy/restore.sh --database smartcart_restore_check).
    mariadb_root <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$(secret_get db_password)';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`test\\_$DB_NAME%\`.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`$DB_NAME\\_restore%\`.* TO '$DB_USER'@'127.0.0.1';
SQL
    say "MariaDB $(mariadb_root -N -e 'SELECT VERSION()') on 127.0.0.1:$MARIADB_PORT (pid $MARIADB_PID)"
}

redis_up() {
    # Append-only file on: queued tasks survive a Redis restart, as on a real server.
    redis_start --appendonly yes --save ''
    PIDS[redis]=$REDIS_PID
    echo "$REDIS_PID" >"$PID_DIR/redis.pid"
    say "Redis $(redis-server --version | cut -d' ' -f3) on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
}

# setup_step TITLE COMMAND...: run a one-off command, output to logs/setup.log.
# In the background and waited for, so a Ctrl-C or TERM is handled at once (bash runs traps
# only after a foreground command ends), and recorded in JOBS for stack_stop.
setup_step() {
    local title=$1 started=$SECONDS pid
    shift
    echo "---- $title: $*" >>"$LOG_DIR/setup.log"
    setsid "$@" </dev/null >>"$LOG_DIR/setup.log" 2>&1 &
    pid=$!
    JOBS+=("$pid")
    if ! wait "$pid"; then
        tail -n 30 "$LOG_DIR/setup.log" >&2
        die "$title failed; the whole log is $LOG_DIR/setup.log"
    fi
    say "$title ($((SECONDS - started)) s)"
}

# launch NAME COMMAND...: a long-running process in its own session, output to logs/NAME.log.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOG_DIR/$name.log" 2>&1 &
    PIDS[$name]=$!
    echo "$!" >"$PID_DIR/$name.pid"
}

# service_of PID: the name of the service this run started as PID (empty if none).
service_of() {
    local name
    for name in "${!PIDS[@]}"; do
        [[ ${PIDS[$name]} == "$1" ]] && echo "$name" && return 0
    done
    return 0
}

# web_nodes_up: how many web nodes are running.
web_nodes_up() {
    local node count=0
    for ((node = 1; node <= WEB_NODES; node++)); do
        kill -0 "${PIDS[web-$node]}" 2>/dev/null && count=$((count + 1))
    done
    echo "$count"
}

# collectstatic re-hashes and re-compresses every file on each run (over 10 s here), so it
# runs only when the project's static files or the installed packages changed.
# static_start starts it in the background (sets STATIC_JOB, empty when nothing to do);
# static_finish waits for it. It needs no database, so it runs beside the migrations.
static_start() {
    STATIC_FINGERPRINT=$({
        find static -type f -printf '%P %s %T@\n' | sort
        find .venv/lib -maxdepth 3 -name '*.dist-info' -printf '%f\n' | sort
    } | sha256sum | cut -d' ' -f1)
    STATIC_JOB=""
    if [[ -f $STATE_DIR/static/staticfiles.json &&
        $(cat "$RUN_DIR/static-fingerprint" 2>/dev/null) == "$STATIC_FINGERPRINT" ]]; then
        say "Static files are up to date"
        return 0
    fi
    STATIC_STARTED=$SECONDS
    setsid "$BIN/python" manage.py collectstatic --no-input \
        </dev/null >"$LOG_DIR/collectstatic.log" 2>&1 &
    STATIC_JOB=$!
    JOBS+=("$STATIC_JOB")
}

static_finish() {
    [[ -n $STATIC_JOB ]] || return 0
    if ! wait "$STATIC_JOB"; then
        tail -n 30 "$LOG_DIR/collectstatic.log" >&2
        die "collecting static files failed; the whole log is $LOG_DIR/collectstatic.log"
    fi
    echo "$STATIC_FINGERPRINT" >"$RUN_DIR/static-fingerprint"
    say "Collected static files ($((SECONDS - STATIC_STARTED)) s)"
}

app_up() {
    static_start
    setup_step "Migrating the database" "$BIN/python" manage.py migrate --no-input
    # --no-accounts: production mode never creates the demo's published logins.
    setup_step "Loading the demo catalog" "$BIN/python" manage.py load_demo_store --no-accounts
    static_finish
    local node
    for ((node = 1; node <= WEB_NODES; node++)); do
        web_node_launch "$node"
    done
    # The same command the compose file's stream service runs.
    STREAM_BIND=127.0.0.1:$STREAM_PORT launch stream \
        "$BIN/gunicorn" shopcart.asgi:application -c deploy/gunicorn-stream.conf.py
    launch worker "$BIN/celery" -A shopcart worker --loglevel INFO \
        --concurrency "$WORKER_CONCURRENCY" --hostname "prod-local@%h"
    launch beat "$BIN/celery" -A shopcart beat --loglevel INFO \
        --schedule "$RUN_DIR/celerybeat-schedule"
}

# web_node_launch N: web node N, on its own loopback port; the same command the container
# image runs (Dockerfile CMD).
web_node_launch() {
    WEB_BIND=127.0.0.1:${WEB_PORTS[$1]} launch "web-$1" \
        "$BIN/gunicorn" shopcart.wsgi:application -c deploy/gunicorn.conf.py
}

# tls_ensure: a self-signed certificate for 127.0.0.1 and localhost, made at the first start
# (and again a day before it expires), kept under PROD_LOCAL_DIR/tls. Clients trust it by
# that file (PROD_LOCAL_CA_FILE), as a browser does after an exception for it.
tls_ensure() {
    local cert=$TLS_DIR/cert.pem key=$TLS_DIR/key.pem
    mkdir -p "$TLS_DIR"
    if [[ -s $cert && -s $key ]] && openssl x509 -in "$cert" -noout -checkend 86400 >/dev/null; then
        return 0
    fi
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
            -subj "/CN=smartcart prod-local" \
            -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
            -keyout "$key" -out "$cert" 2>>"$LOG_DIR/setup.log"
    ) || die "openssl could not make the TLS certificate; see $LOG_DIR/setup.log"
    chmod 644 "$cert"
    say "Made a self-signed TLS certificate for 127.0.0.1 and localhost: $cert"
}

# nginx_conf_write: nginx.conf for this stack, its routes from deploy/nginx/smartcart-routes.conf
# (shared with the compose file's nginx).
nginx_conf_write() {
    local node servers="" user_line=""
    for ((node = 1; node <= WEB_NODES; node++)); do
        # A node that fails is left alone for 10 s, then tried again (passive health check).
        servers+="        server 127.0.0.1:${WEB_PORTS[$node]} max_fails=1 fail_timeout=10s;"$'\n'
    done
    # As root nginx would run its workers as nobody, who may not read the static files here.
    [[ $(id -u) == 0 ]] && user_line="user $(id -un) $(id -gn);"
    mkdir -p "$NGINX_DIR/temp"
    cat >"$NGINX_DIR/nginx.conf" <<NGINX
# Written by deploy/prod-local.sh at each start; the routes are deploy/nginx/smartcart-routes.conf.
$user_line
worker_processes auto;
pid $RUN_DIR/nginx.pid;
error_log $LOG_DIR/nginx-error.log warn;
daemon off;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    server_tokens off;
    client_body_temp_path $NGINX_DIR/temp/body;
    proxy_temp_path $NGINX_DIR/temp/proxy;
    fastcgi_temp_path $NGINX_DIR/temp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/temp/uwsgi;
    scgi_temp_path $NGINX_DIR/temp/scgi;

    log_format smartcart '\$remote_addr [\$time_iso8601] "\$request" \$status \$body_bytes_sent '
                         '\$request_time "\$upstream_addr" \$upstream_response_time \$request_id '
                         '"\$http_user_agent"';
    access_log $LOG_DIR/nginx-access.log smartcart buffer=64k flush=1s;

    upstream smartcart_web {
$servers        keepalive 32;
    }

    upstream smartcart_stream {
        server 127.0.0.1:$STREAM_PORT;
    }

    server {
        listen 127.0.0.1:$PORT ssl;
        server_name 127.0.0.1 localhost;
        ssl_certificate $TLS_DIR/cert.pem;
        ssl_certificate_key $TLS_DIR/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_timeout 1h;

        # STATIC_ROOT and MEDIA_ROOT are $STATE_DIR/static and $STATE_DIR/media.
        root $STATE_DIR;
        include $ROOT/deploy/nginx/smartcart-routes.conf;

        # Collected with hashed names (name.0123456789ab.css): those never change.
        location /static/ {
            gzip_static on;
            add_header Cache-Control "public, max-age=60";
            add_header X-Content-Type-Options nosniff;
            location ~ "\.[0-9a-f]{12}\.[A-Za-z0-9]+\$" {
                add_header Cache-Control "public, max-age=315360000, immutable";
                add_header X-Content-Type-Options nosniff;
            }
        }

        # Product photos (and kept scan photos, under names nobody can guess).
        location /media/ {
            add_header X-Content-Type-Options nosniff;
        }
    }
}
NGINX
}

nginx_up() {
    tls_ensure
    nginx_conf_write
    setup_step "Checking nginx's configuration" nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -t
    launch nginx nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf"
}

# urls_ready URL...: every URL answers 200 (https ones checked against our certificate).
urls_ready() {
    "$BIN/python" - "$TLS_DIR/cert.pem" "$@" <<'PY' 2>/dev/null
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[1])
for url in sys.argv[2:]:
    with urllib.request.urlopen(url, timeout=3, context=context) as response:
        if response.status != 200:
            raise SystemExit(1)
PY
}

# ready_wait: each web node's /readyz and the stream pool's /healthz directly (plain HTTP, which
# the store allows for these two), then /readyz through nginx over HTTPS.
ready_wait() {
    local deadline=$((SECONDS + 120)) name node urls=()
    for ((node = 1; node <= WEB_NODES; node++)); do
        urls+=("http://127.0.0.1:${WEB_PORTS[$node]}/readyz")
    done
    urls+=("http://127.0.0.1:$STREAM_PORT/healthz" "https://127.0.0.1:$PORT/readyz")
    say "Waiting for /readyz"
    until urls_ready "${urls[@]}"; do
        for name in "${SERVICES[@]:2}"; do
            kill -0 "${PIDS[$name]}" 2>/dev/null || {
                tail -n 30 "$LOG_DIR/$name.log" >&2
                die "$name exited during start-up; see $LOG_DIR/$name.log"
            }
        done
        ((SECONDS < deadline)) || die "/readyz did not answer 200 within 120 s"
        sleep 0.5
    done
}

banner() {
    cat <<EOF

smartcart runs in production mode on loopback, behind nginx with a self-signed certificate
(your browser asks once to trust it; clients can use $TLS_DIR/cert.pem):
    the shop          https://127.0.0.1:$PORT/
    the store admin   https://127.0.0.1:$PORT/admin/   (create a login with:
                      deploy/prod-local.sh manage createsuperuser)
    health            https://127.0.0.1:$PORT/healthz   https://127.0.0.1:$PORT/readyz
    processes         nginx; $WEB_NODES web node(s) of $WEB_WORKERS gunicorn $WEB_WORKER_CLASS workers$([[ $WEB_WORKER_CLASS == gthread ]] && echo " of $WEB_THREADS threads") ($(web_binds));
                      the live stream's pool, $STREAM_WORKERS uvicorn worker(s) (127.0.0.1:$STREAM_PORT);
                      Celery worker ($WORKER_CONCURRENCY processes), Celery beat;
                      MariaDB 127.0.0.1:$MARIADB_PORT, Redis 127.0.0.1:$REDIS_PORT
    logs              $LOG_DIR/ (nginx-access.log, web-N.log, stream.log, worker.log, ...),
                      $RUN_DIR/{mariadb.err,redis.log}
    emails            $STATE_DIR/mail/*.eml (sent by the Celery worker)
    pids              $PID_DIR/
EOF
}

stack_stop() {
    local i name pid
    set +e
    rm -f "$READY_FILE"
    for pid in "${JOBS[@]}"; do
        stop_pid "$pid" "setup step"
    done
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        name=${SERVICES[i]}
        [[ -n ${PIDS[$name]:-} ]] || continue
        stop_pid "${PIDS[$name]}" "$name"
        rm -f "$PID_DIR/$name.pid"
    done
    rm -f "$SUPERVISOR_PID_FILE"
}

on_exit() {
    local rc=$?
    # Finish stopping whatever comes next (each stop ends in a KILL after 30 s at most).
    trap '' INT TERM HUP PIPE
    stack_stop
    echo "prod-local stopped (exit $rc)"
    exit "$rc"
}

# Runs the stack in the foreground until a signal or until one of its processes exits.
start_foreground() {
    local existing name pid node pid_file
    packages_check
    mkdir -p "$RUN_DIR" "$LOG_DIR" "$PID_DIR" "$STATE_DIR/mail" "$STATE_DIR/media"
    existing=$(pid_from_file prod-local)
    if pid_alive prod-local "$existing"; then
        die "prod-local already runs here (pid $existing); stop it with \`make prod-local-stop\`"
    fi
    # Every pid file, not only this run's services: an earlier run may have had more web nodes.
    for pid_file in "$PID_DIR"/*.pid; do
        [[ -e $pid_file ]] || continue
        name=$(basename "$pid_file" .pid)
        pid=$(pid_from_file "$name")
        if [[ $name != prod-local ]] && pid_alive "$name" "$pid"; then
            die "$name (pid $pid) is left from an earlier run; \`make prod-local-stop\` ends it"
        fi
    done
    port_in_use "$PORT" && die "port $PORT is busy; choose another with PORT=..."
    MARIADB_PORT=$(pick_port "$MARIADB_PORT")
    REDIS_PORT=$(pick_port "$REDIS_PORT")
    for ((node = 1; node <= WEB_NODES; node++)); do
        WEB_PORTS[$node]=$(free_port)
    done
    STREAM_PORT=$(free_port)
    rm -f "$READY_FILE"
    echo "${SERVICES[*]}" >"$RUN_DIR/services"
    echo "$$" >"$SUPERVISOR_PID_FILE"
    trap on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # A closed terminal or a reader of our output gone: still stop what we started.
    trap 'exit 129' HUP
    trap 'exit 141' PIPE

    env_write
    env_load
    mariadb_up
    redis_up
    app_up
    nginx_up
    ready_wait
    banner
    echo "https://127.0.0.1:$PORT/" >"$READY_FILE"
    echo "Press Ctrl+C to stop."
    supervise
}

# supervise: everything runs until told to stop. A web node that dies while another still
# serves is started again after RESTART_DELAY seconds (nginx sends its requests to the others
# meanwhile), as a process supervisor would; any other process that dies, or the last web
# node, takes the stack down with it, so a half-working store never passes for a working one.
supervise() {
    local finished name
    while true; do
        finished=""
        wait -n -p finished || true
        name=$(service_of "${finished:-}")
        [[ -n $name ]] || continue
        if [[ $name == web-* ]] && (($(web_nodes_up) > 0)); then
            echo "$(date -u +%FT%TZ) $name (pid $finished) exited; the other web nodes serve;" \
                "starting it again in $RESTART_DELAY s"
            sleep "$RESTART_DELAY" &
            wait $! || true
            web_node_launch "${name#web-}"
            echo "$(date -u +%FT%TZ) $name started again (pid ${PIDS[$name]})"
            continue
        fi
        echo "ERROR: $name (pid $finished) exited; stopping the rest. See $LOG_DIR/" >&2
        exit 1
    done
}

start_background() {
    local supervisor deadline=$((SECONDS + START_TIMEOUT))
    supervisor=$(pid_from_file prod-local)
    if pid_alive prod-local "$supervisor"; then
        die "prod-local already runs here (pid $supervisor); stop it with \`make prod-local-stop\`"
    fi
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    rm -f "$READY_FILE"
    PROD_LOCAL_BACKGROUND=0 setsid "$SELF" start </dev/null >"$LOG_DIR/prod-local.log" 2>&1 &
    supervisor=$!
    echo "prod-local starting in the background (pid $supervisor), log $LOG_DIR/prod-local.log"
    until [[ -s $READY_FILE ]]; do
        if ! kill -0 "$supervisor" 2>/dev/null; then
            tail -n 40 "$LOG_DIR/prod-local.log" >&2
            die "prod-local failed to start; see $LOG_DIR/prod-local.log"
        fi
        if ((SECONDS >= deadline)); then
            "$SELF" stop >&2 || true
            die "prod-local was not ready within $START_TIMEOUT s; stopped it"
        fi
        sleep 0.5
    done
    sed -n '/^smartcart runs/,$p' "$LOG_DIR/prod-local.log"
    echo "Ready. Stop it with \`make prod-local-stop\`."
}

# services_recorded: the running (or last) stack's services, in start order.
services_recorded() {
    if [[ -s $RUN_DIR/services ]]; then
        read -r -a SERVICES <"$RUN_DIR/services"
    fi
}

stop() {
    local supervisor name pid i _
    services_recorded
    supervisor=$(pid_from_file prod-local)
    if pid_alive prod-local "$supervisor"; then
        echo "stopping prod-local (pid $supervisor)"
        kill -TERM "$supervisor"
        for _ in $(seq 1 240); do
            kill -0 "$supervisor" 2>/dev/null || break
            sleep 0.5
        done
    fi
    # What a killed supervisor could not stop: only pids recorded here, still running the
    # program they were started as.
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        name=${SERVICES[i]}
        pid=$(pid_from_file "$name")
        if pid_alive "$name" "$pid"; then
            stop_pid "$pid" "$name (left over)"
        fi
        rm -f "$PID_DIR/$name.pid"
    done
    rm -f "$SUPERVISOR_PID_FILE" "$READY_FILE"
    echo "prod-local is stopped"
}

status() {
    local name pid state rc=0
    services_recorded
    for name in prod-local "${SERVICES[@]}"; do
        pid=$(pid_from_file "$name")
        state="not running"
        if pid_alive "$name" "$pid"; then
            state="running (pid $pid)"
        else
            rc=3
        fi
        printf '%-11s %s\n' "$name" "$state"
    done
    return "$rc"
}

command=${1:-start}
shift || true
case $command in
start)
    if [[ ${1:-} == --background || ${PROD_LOCAL_BACKGROUND:-0} == 1 ]]; then
        start_background
    else
        start_foreground
    fi
    ;;
stop) stop ;;
status) status ;;
env) cat "$ENV_FILE" 2>/dev/null || die "prod-local has never started here ($STATE_DIR)" ;;
manage)
    env_load
    exec "$BIN/python" manage.py "$@"
    ;;
sql) mariadb_root "$@" ;;
*) die "usage: $0 start [--background] | stop | status | env | manage ARGS... | sql ARGS..." ;;
esac
