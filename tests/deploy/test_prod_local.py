"""``make prod-local``: the production stack on loopback, started, used and stopped for real.

One stack is started for the module (fresh MariaDB and Redis, migrations, collectstatic, the
demo catalog, a gunicorn web node, the live stream's ASGI pool, a Celery worker, beat, and
nginx in front with its self-signed certificate) on free ports in a temp dir, which takes about
a minute on two cores. Every request goes through nginx over HTTPS on loopback, the client
trusting the stack's own certificate (``PROD_LOCAL_CA_FILE``) and nothing else. The start
takes a while; that is why these tests run only when asked: ``SMARTCART_TEST_PROD_LOCAL=1``
(CI's own "make prod-local" step sets it), and only where the distribution's mariadb-server,
redis-server and nginx are installed; otherwise they are skipped with the reason.

The backup test shares the stack's MariaDB: it backs the store up, restores the dump into a
scratch database and checks the data came back. The last test stops the stack and checks that
no process it started is left; it must stay last in this file.
"""

import gzip
import http.client
import http.cookiejar
import json
import os
import re
import shelve
import shlex
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.scan_load.server import THROTTLE_RATE as SCAN_LOAD_THROTTLE_RATE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROD_LOCAL = BASE_DIR / "deploy" / "prod-local.sh"
BACKUP = BASE_DIR / "deploy" / "backup.sh"
RESTORE = BASE_DIR / "deploy" / "restore.sh"
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin"


def _skip_reason() -> str | None:
    if os.environ.get("SMARTCART_TEST_PROD_LOCAL") != "1":
        return (
            "starts the whole production stack (about a minute): "
            "set SMARTCART_TEST_PROD_LOCAL=1 to run it"
        )
    programs = ["mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump", "redis-server"]
    programs += ["nginx", "openssl"]
    missing = [name for name in programs if shutil.which(name, path=SBIN_PATH) is None]
    if missing:
        return (
            f"{', '.join(missing)} not installed: "
            "apt-get install mariadb-server mariadb-client redis-server nginx openssl"
        )
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        return "mysqlclient is not installed: pip install -r requirements/mysql.txt"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(root: int) -> set[int]:
    """``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def _found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """``re.search`` that fails the test, showing the pattern, when nothing matches."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not found"
    return match


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has finished; only unreaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _opener(ca_file: str) -> urllib.request.OpenerDirector:
    """A client with cookies that trusts the stack's self-signed certificate, and only it."""
    context = ssl.create_default_context(cafile=ca_file)
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )


@dataclass
class Stack:
    state_dir: Path
    url: str
    environ: dict[str, str]
    script_env: dict[str, str]
    opener: urllib.request.OpenerDirector = field(init=False)

    def __post_init__(self) -> None:
        self.opener = _opener(self.environ["PROD_LOCAL_CA_FILE"])

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        """GET ``path``; the headers are looked up without regard to case."""
        url = self.url + path.lstrip("/")
        request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - https
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def log(self, name: str) -> str:
        return (self.state_dir / "logs" / name).read_text(errors="replace")

    def pid(self, name: str) -> int:
        return int((self.state_dir / "pids" / f"{name}.pid").read_text())

    def run(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(  # noqa: S603 - our own scripts
            list(args),
            cwd=BASE_DIR,
            env={**self.script_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("prod-local")
    script_env = {
        **os.environ,
        "PROD_LOCAL_DIR": str(state_dir),
        "PORT": str(_free_port()),
        "PROD_LOCAL_DB_PORT": str(_free_port()),
        "PROD_LOCAL_REDIS_PORT": str(_free_port()),
        # Fewer processes than the default (2 a CPU + 1): the test checks the shape, not speed.
        "WEB_WORKERS": "2",
        "WORKER_CONCURRENCY": "1",
        # Commits without a disk flush each: the migrations run twice as fast. Durability is not
        # under test here (prod-local itself keeps MariaDB's durable defaults).
        "PROD_LOCAL_MARIADB_OPTIONS": "--innodb-flush-log-at-trx-commit=2 --innodb-doublewrite=0",
        # The scan load test's carts scan far faster than shoppers (its own stacks raise the
        # limit the same way): at 600 a minute a fast machine throttled them.
        "DEVICE_THROTTLE_RATE": SCAN_LOAD_THROTTLE_RATE,
    }
    started = subprocess.run(  # noqa: S603
        [str(PROD_LOCAL), "start", "--background"],
        cwd=BASE_DIR,
        env=script_env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    log = state_dir / "logs" / "prod-local.log"
    assert started.returncode == 0, started.stdout + started.stderr
    exported = (state_dir / "env").read_text()
    environ = dict(
        line.removeprefix("export ").split("=", 1) for line in exported.splitlines() if line
    )
    environ = {key: shlex.split(value)[0] if value else "" for key, value in environ.items()}
    stack = Stack(state_dir, environ["PROD_LOCAL_URL"], environ, script_env)
    yield stack
    subprocess.run(  # noqa: S603 - idempotent: the last test has normally stopped it already
        [str(PROD_LOCAL), "stop"], cwd=BASE_DIR, env=script_env, timeout=180, check=False
    )
    assert log.is_file()


def test_healthz_answers_ok(stack):
    status, _, body = stack.get("/healthz")

    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_readyz_reports_database_redis_and_broker_ok(stack):
    status, _, body = stack.get("/readyz")

    assert status == 200
    assert json.loads(body)["checks"] == {"database": "ok", "redis": "ok", "broker": "ok"}


def test_the_store_runs_in_production_mode_on_mariadb_and_redis(stack):
    assert stack.environ["SMARTCART_MODE"] == "production"
    assert stack.environ["DATABASE_URL"].startswith("mysql://smartcart:")
    assert stack.environ["CELERY_BROKER_URL"].startswith("redis://127.0.0.1:")
    secret = (stack.state_dir / "secret_key").read_text().strip()
    assert stack.environ["SECRET_KEY"] == secret and len(secret) >= 50
    assert (stack.state_dir / "secret_key").stat().st_mode & 0o077 == 0


def test_home_page_shows_the_demo_catalog_with_hashed_static_files(stack):
    status, headers, body = stack.get("/")

    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    # Production storage: every static URL carries a content hash (the whitenoise manifest).
    assert re.search(r"/static/css/site\.[0-9a-f]{12}\.css", page), page[:2000]


def test_hashed_static_file_is_served_with_far_future_caching(stack):
    _, _, body = stack.get("/")
    stylesheet = _found(r"/static/css/site\.[0-9a-f]{12}\.css", body.decode()).group(0)

    status, headers, css = stack.get(stylesheet)

    assert status == 200 and css
    cache_control = headers["Cache-Control"]
    assert "immutable" in cache_control
    assert int(_found(r"max-age=(\d+)", cache_control).group(1)) >= 365 * 24 * 3600


def _command_line(pid: int) -> tuple[str, str, list[str]]:
    """The interpreter, the program and its arguments of a Python program running as ``pid``."""
    interpreter, program, *arguments = (
        part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    )
    return interpreter, program, arguments


def test_web_node_runs_the_containers_gunicorn_command(stack):
    dockerfile_cmd = json.loads(
        _found(r"^CMD (\[.*\])$", (BASE_DIR / "Dockerfile").read_text(), re.M).group(1)
    )
    interpreter, program, arguments = _command_line(stack.pid("web-1"))

    assert Path(program).name == dockerfile_cmd[0] == "gunicorn"
    assert arguments == dockerfile_cmd[1:]
    assert "shopcart.wsgi:application" in arguments
    assert Path(interpreter).name.startswith("python")


def test_the_stream_pool_runs_the_compose_stream_command(stack):
    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    _, program, arguments = _command_line(stack.pid("stream"))

    assert [Path(program).name, *arguments] == compose["services"]["stream"]["command"]


def test_nginx_answers_over_https_and_passes_its_request_id_to_the_app(stack):
    status, headers, _ = stack.get("/healthz")
    request_id = headers["X-Request-ID"]

    assert status == 200
    assert headers["Server"] == "nginx"
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, kept by the app
    deadline = time.monotonic() + 5  # nginx writes its access log every second
    while request_id not in stack.log("nginx-access.log") and time.monotonic() < deadline:
        time.sleep(0.2)
    line = next(x for x in stack.log("nginx-access.log").splitlines() if request_id in x)
    web_bind = stack.environ["PROD_LOCAL_WEB_BINDS"].split()[0]
    assert '"GET /healthz HTTP/1.1" 200' in line and f'"{web_bind}"' in line


def test_the_certificate_is_made_once_for_loopback_and_kept(stack):
    cert = Path(stack.environ["PROD_LOCAL_CA_FILE"])
    key = cert.with_name("key.pem")

    assert cert.parent == stack.state_dir / "tls"
    assert key.stat().st_mode & 0o077 == 0
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(stack.url + "healthz", timeout=10)  # noqa: S310 - the system's CAs


def test_the_live_stream_goes_through_nginx_to_the_stream_pool(stack):
    status, headers, body = _first_bytes(stack, "/cart/events/")

    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    assert b'data: {"cart": null, "version": 0, "scans": 0, "pairings": 0}' in body
    assert "GET /cart/events/" not in stack.log("web-1.log")


def _first_bytes(stack, path: str) -> tuple[int, Message, bytes]:
    """The status, headers and first bytes of a response that does not end (a stream)."""
    context = ssl.create_default_context(cafile=stack.environ["PROD_LOCAL_CA_FILE"])
    host, port = urllib.parse.urlsplit(stack.url).hostname, urllib.parse.urlsplit(stack.url).port
    connection = http.client.HTTPSConnection(host or "", port, context=context, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        return response.status, response.headers, response.read1(4096)
    finally:
        connection.close()


def test_static_files_come_from_nginx_not_the_app(stack):
    _, _, body = stack.get("/")
    stylesheet = _found(r"/static/css/site\.[0-9a-f]{12}\.css", body.decode()).group(0)

    status, headers, _ = stack.get(stylesheet, headers={"Accept-Encoding": "gzip"})

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"  # collectstatic's .gz, sent as it is
    assert "X-Request-ID" not in headers  # no Django middleware saw it


def test_signup_email_goes_through_the_outbox_and_the_worker(stack):
    """Web → outbox row → Redis broker → Celery worker → the mail sink (an .eml file)."""
    address = f"prod-local-{uuid.uuid4().hex[:8]}@example.com"
    _, _, form = stack.get("/accounts/signup/")
    token = _found(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.decode()).group(1)
    password = uuid.uuid4().hex + "Aa9!"
    fields = {"csrfmiddlewaretoken": token, "email": address, "password1": password}
    fields["password2"] = password
    request = urllib.request.Request(  # noqa: S310 - https on loopback
        stack.url + "accounts/signup/",
        data=urllib.parse.urlencode(fields).encode(),
        # Over HTTPS Django's CSRF check wants to see where the form came from.
        headers={"Referer": stack.url + "accounts/signup/"},
    )
    with stack.opener.open(request, timeout=10) as response:
        assert response.url.endswith("/accounts/confirm-email/")

    mail_dir = Path(stack.environ["EMAIL_FILE_PATH"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = [p for p in mail_dir.glob("*.eml") if address.encode() in p.read_bytes()]
        if sent:
            break
        time.sleep(0.3)
    assert sent, "no email reached the mail sink within 30 s"
    worker_log = (stack.state_dir / "logs" / "worker.log").read_text()
    assert "shopcart.tasks.email_send" in worker_log
    # The link is the store's https:// address, through nginx.
    assert stack.url.startswith("https://")
    assert stack.url.encode() + b"accounts/confirm-email/" in sent[0].read_bytes()


def test_beat_runs_with_the_store_schedule_kept_under_prod_local_dir(stack):
    """Beat keeps its schedule under PROD_LOCAL_DIR (a kept file, as on the compose volume).

    A new schedule's first run is one interval after start (60 s for the shortest), longer than
    this test may wait; the worker's side of the broker is proven by the email test.
    """
    schedule = stack.state_dir / "run" / "celerybeat-schedule"
    with shelve.open(str(schedule), flag="r") as store:  # noqa: S301 - written by our beat
        entries = {name: entry.task for name, entry in store["entries"].items()}

    assert _running(stack.pid("beat"))
    expected = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    assert entries.items() >= expected.items()
    assert "orders-expire-pending" in entries


def _dump_body(dump: bytes) -> list[str]:
    """The dump's SQL without the comment lines naming the host, database and time."""
    return [line for line in dump.decode().splitlines() if not line.startswith("-- ")]


def test_backup_restores_into_a_scratch_database_with_the_same_data(stack, tmp_path):
    marker = f"Backup check 🍓 {uuid.uuid4().hex}"
    stack.run(
        str(PROD_LOCAL),
        "sql",
        "--default-character-set=utf8mb4",
        "smartcart",
        "-e",
        f"UPDATE catalog_product SET description = '{marker}' ORDER BY id LIMIT 1",  # noqa: S608
    )
    backups = tmp_path / "backups"
    env = {"DATABASE_URL": stack.environ["DATABASE_URL"], "BACKUP_DIR": str(backups)}
    dump = Path(stack.run(str(BACKUP), env=env).strip())
    assert dump.parent == backups and dump.name.endswith(".sql.gz")

    # The store's own login creates the scratch database: no root needed for the drill.
    stack.run(str(RESTORE), str(dump), "--database", "smartcart_restore_check", env=env)

    restored = stack.run(
        str(PROD_LOCAL),
        "sql",
        "--default-character-set=utf8mb4",
        "smartcart_restore_check",
        "-N",
        "-e",
        "SELECT description FROM catalog_product ORDER BY id LIMIT 1",
    )
    assert restored.strip() == marker
    # Dumping the restored copy gives back the same SQL: every table, every row.
    again = tmp_path / "again"
    url = stack.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/smartcart_restore_check"
    second = stack.run(str(BACKUP), env={"DATABASE_URL": url, "BACKUP_DIR": str(again)})
    original = _dump_body(gzip.decompress(dump.read_bytes()))
    assert _dump_body(gzip.decompress(Path(second.strip()).read_bytes())) == original
    assert any(line.startswith("CREATE TABLE `orders_order`") for line in original)


def test_restore_refuses_a_database_that_already_has_tables(stack, tmp_path):
    env = {"DATABASE_URL": stack.environ["DATABASE_URL"], "BACKUP_DIR": str(tmp_path)}
    dump = stack.run(str(BACKUP), env=env).strip()

    result = subprocess.run(  # noqa: S603
        [str(RESTORE), dump],
        cwd=BASE_DIR,
        env={**stack.script_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "already has" in result.stderr and "--replace" in result.stderr


def test_backups_are_rotated_keeping_the_newest(stack, tmp_path):
    env = {
        "DATABASE_URL": stack.environ["DATABASE_URL"],
        "BACKUP_DIR": str(tmp_path),
        "BACKUP_KEEP": "2",
    }
    made = [stack.run(str(BACKUP), env=env).strip() for _ in range(3)]

    assert sorted(str(p) for p in tmp_path.glob("*.sql.gz")) == sorted(made[1:])


def test_scan_load_runs_through_nginx_and_counts_every_process_of_the_stack(stack):
    """``benchmarks.scan_load --stack-dir``: carts scanning over HTTPS through nginx, the
    server's CPU per scan summed over the stack's processes (the speed is not under test)."""
    import sys

    command = [sys.executable, "-m", "benchmarks.scan_load", "--stack-dir", str(stack.state_dir)]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--carts", "2", "--seconds", "2", "--warmup", "0.5", "--kind", "code"],
        cwd=BASE_DIR,
        env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["stack"], summary["database"]) == ("prod-local", "mysql")
    assert summary["scans"] > 0 and summary["errors"] == {} and summary["wrong_lines"] == 0
    parts = summary["server_cpu_ms_per_scan_by_part"]
    assert {"nginx", "web-1", "stream", "mariadb", "redis", "worker", "beat"} <= set(parts)
    assert parts["web-1"] > 0 and parts["nginx"] > 0
    assert summary["server_cpu_ms_per_scan"] == pytest.approx(sum(parts.values()), abs=0.05)
    assert _running(stack.pid("web-1"))  # attached, not stopped


# Keep last: it stops the module's stack.
def test_stop_ends_every_process_it_started(stack):
    supervisor = int((stack.state_dir / "pids" / "prod-local.pid").read_text())
    started = _descendants(supervisor)
    names = ("mariadb", "redis", "web-1", "stream", "worker", "beat", "nginx")
    assert {stack.pid(name) for name in names} <= started
    # gunicorn's workers and the Celery pool are there too, below their masters.
    assert len(started) >= 1 + len(names) + 2 + 1

    stack.run(str(PROD_LOCAL), "stop")

    assert [pid for pid in started if _running(pid)] == []
    assert not list((stack.state_dir / "pids").glob("*.pid"))
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(stack.script_env["PORT"])), timeout=2)
