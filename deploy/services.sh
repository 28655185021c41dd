# shellcheck shell=bash
# Our own MariaDB and Redis on loopback, from the distribution's packages. Sourced by .ci/run
# (a throw-away instance per CI run) and deploy/prod-local.sh (a kept instance under
# var/prod-local/). Sourcing defines functions only; nothing starts until one is called.
#
# The functions read these variables from the caller:
#   RUN_DIR           socket, pid file and logs of both servers (Redis also keeps its files here)
#   MARIADB_DATA      MariaDB's data directory; default $RUN_DIR/mariadb-data
#   MARIADB_PORT      TCP port on 127.0.0.1
#   MARIADB_ROOT_AUTH "normal" (root, no password, on the socket only: CI) or "socket" (root
#                     and the current OS user, through unix_socket authentication)
#   REDIS_PORT        TCP port on 127.0.0.1
# and set MARIADB_PID and REDIS_PID. Only those pids are ever stopped: servers already on the
# machine are never touched, and --no-defaults keeps /etc/mysql out of ours.

die() {
    echo "ERROR: $*" >&2
    exit 1
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pick_port WANTED: WANTED when it is free, else any free port (and says so on stderr).
pick_port() {
    local wanted=$1 port
    if port_in_use "$wanted"; then
        port=$(free_port)
        echo "port $wanted is busy, using $port instead" >&2
        echo "$port"
    else
        echo "$wanted"
    fi
}

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# stop_pid PID NAME: TERM, up to 30 s for a clean exit, then KILL.
stop_pid() {
    local pid=$1 name=$2
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        echo "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

mariadb_root() {
    local user=root
    [[ ${MARIADB_ROOT_AUTH:-normal} == socket ]] && user=$(id -un)
    mariadb --no-defaults --protocol=socket --socket="$RUN_DIR/mariadb.sock" -u"$user" "$@"
}

# mariadb_start [MARIADBD OPTION...]: initialise $MARIADB_DATA when it is empty, start mariadbd
# in the background and wait until it answers. Sets MARIADB_PID.
mariadb_start() {
    local data=${MARIADB_DATA:-$RUN_DIR/mariadb-data} user _
    user=$(id -un)
    mkdir -p "$data"
    if [[ ! -d $data/mysql ]]; then
        mariadb-install-db --no-defaults --user="$user" --datadir="$data" \
            --auth-root-authentication-method="${MARIADB_ROOT_AUTH:-normal}" \
            --skip-test-db --skip-name-resolve \
            >"$RUN_DIR/mariadb-install.log" 2>&1 ||
            {
                cat "$RUN_DIR/mariadb-install.log"
                die "mariadb-install-db failed"
            }
    fi
    # setsid: a Ctrl-C in the terminal reaches the script only, which stops servers in order.
    setsid mariadbd --no-defaults --user="$user" --datadir="$data" \
        --bind-address=127.0.0.1 --port="$MARIADB_PORT" \
        --socket="$RUN_DIR/mariadb.sock" --pid-file="$RUN_DIR/mariadb.pid" \
        --log-error="$RUN_DIR/mariadb.err" --skip-name-resolve \
        "$@" </dev/null >/dev/null 2>&1 &
    MARIADB_PID=$!
    for _ in $(seq 1 120); do
        if ! kill -0 "$MARIADB_PID" 2>/dev/null; then
            cat "$RUN_DIR/mariadb.err" >&2 || true
            die "mariadbd exited during start-up"
        fi
        mariadb-admin --no-defaults --protocol=socket --socket="$RUN_DIR/mariadb.sock" \
            -u"$user" ping >/dev/null 2>&1 && break
        sleep 0.5
    done
    mariadb_root -e 'SELECT 1' >/dev/null || die "mariadbd did not answer within 60 s"
}

# redis_start [REDIS-SERVER OPTION...]: start redis-server in the background, files in
# $RUN_DIR, and wait until it answers. Sets REDIS_PID.
redis_start() {
    local _
    setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" --daemonize no \
        "$@" </dev/null >/dev/null 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 1 60); do
        kill -0 "$REDIS_PID" 2>/dev/null || {
            cat "$RUN_DIR/redis.log" >&2 || true
            die "redis-server exited during start-up"
        }
        [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && break
        sleep 0.5
    done
    [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] ||
        die "redis-server did not answer within 30 s"
}
