"""The Dockerfile, .dockerignore, docker-compose.yml, the gunicorn settings and the compose
nginx configuration, read as files.

Docker is not available where the suite runs, so the images are never built here: these
tests check the properties a store relies on (non-root, health check, no secrets, the same
server commands as ``make prod-local``, nginx in front with the same routes) and the
structure of the compose file; the compose nginx configuration is checked by this machine's
nginx (``nginx -t``) when it is installed.
"""

import json
import os
import re
import runpy
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "stream", "worker", "beat")
GUNICORN_CMD = ["gunicorn", "shopcart.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
STREAM_CMD = ["gunicorn", "shopcart.asgi:application", "-c", "deploy/gunicorn-stream.conf.py"]
NGINX_DIR = BASE_DIR / "deploy" / "nginx"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line
    ]


def _found(pattern: str, text: str, flags: int = 0) -> re.Match[str]:
    """``re.search`` that fails the test, showing the pattern, when nothing matches."""
    match = re.search(pattern, text, flags)
    assert match is not None, f"{pattern!r} not found"
    return match


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_images_build_from_python_311_slim_and_nginx_in_three_stages():
    default = _found(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M).group(1)
    froms = [args for name, args in _instructions() if name == "FROM"]

    assert default.startswith("python:3.11-slim")
    assert froms[:2] == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    assert re.fullmatch(r"nginx:1\.\d+ AS proxy", froms[2])
    assert len(froms) == 3


def test_the_proxy_image_carries_the_collected_static_files_and_the_routes():
    _, _, proxy = _stages()
    copies = [args for name, args in proxy if name == "COPY"]

    assert "--from=runtime /app/staticfiles /srv/smartcart/static" in copies
    assert "deploy/nginx/smartcart-routes.conf /etc/nginx/smartcart-routes.conf" in copies
    assert "deploy/nginx/compose.conf /etc/nginx/conf.d/default.conf" in copies


def test_compiler_and_headers_stay_in_the_build_stage():
    build, runtime, _ = _stages()
    build_runs = " ".join(args for name, args in build if name == "RUN")
    runtime_runs = " ".join(args for name, args in runtime if name == "RUN")

    for package in ("gcc", "libmariadb-dev", "pkg-config"):
        assert package in build_runs
        assert package not in runtime_runs
    assert "libmariadb3" in runtime_runs and "libzbar0" in runtime_runs
    assert "requirements/base.txt" in build_runs and "requirements/mysql.txt" in build_runs
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime


def test_image_runs_as_an_unprivileged_user():
    _, runtime, _ = _stages()
    users = [args for name, args in runtime if name == "USER"]

    assert users, "no USER: the app would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    assert re.search(rf"useradd .*{users[-1]}", DOCKERFILE)


def test_static_files_are_collected_in_production_mode_at_build_time():
    _, runtime, _ = _stages()
    env = " ".join(args for name, args in runtime if name == "ENV")
    collect = [args for name, args in runtime if name == "RUN" and "collectstatic" in args]

    assert "SMARTCART_MODE=production" in env
    assert len(collect) == 1 and "SECRET_KEY=" in collect[0]
    # Collected before USER: the app user cannot rewrite the files it serves.
    names = [name for name, _ in runtime]
    assert names.index("USER") > next(
        i for i, (name, args) in enumerate(runtime) if "collectstatic" in args
    )


def test_the_build_steps_environment_loads_the_production_settings():
    # What the image's ENV and the collectstatic step set, and nothing else: production
    # refuses a weak key, a plain-http SITE_URL and a store without a payment gateway.
    _, runtime, _ = _stages()
    environment: dict[str, str] = {}
    for name, args in runtime:
        if name == "ENV":
            environment.update(word.split("=", 1) for word in shlex.split(args))
    collect = next(args for name, args in runtime if name == "RUN" and "collectstatic" in args)
    assignments = shlex.split(collect.split("python manage.py", 1)[0])
    environment.update(word.split("=", 1) for word in assignments)
    environment["PATH"] = os.environ["PATH"]  # the image's names /opt/venv/bin
    probe = (
        "import environ; environ.Env.read_env = staticmethod(lambda *a, **k: None)\n"
        "from django.conf import settings; print(settings.STATIC_ROOT)"
    )

    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe],
        cwd=BASE_DIR,
        env={**environment, "DJANGO_SETTINGS_MODULE": "shopcart.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == environment["STATIC_ROOT"]


def test_no_secret_is_baked_into_the_image():
    secret = re.compile(r"SECRET|PASSWORD|TOKEN|DSN|API_KEY", re.I)
    for name, args in _instructions():
        if name in ("ENV", "ARG", "LABEL"):
            assert not secret.search(args), f"{name} {args}"
    # The only key in the file is the collectstatic throwaway, named as such.
    keys = re.findall(r"SECRET_KEY=(\S+)", DOCKERFILE)
    assert keys == ["collectstatic-only-not-a-secret-never-used-at-run-time"]
    ignored = (BASE_DIR / ".dockerignore").read_text().split()
    assert ".env" in ignored


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = set((BASE_DIR / ".dockerignore").read_text().split())

    assert {".env", ".git", ".venv", "var", "tests"} <= ignored


def test_health_check_hits_healthz_on_the_exposed_port():
    _, runtime, _ = _stages()
    exposed = [args for name, args in runtime if name == "EXPOSE"]
    health = [args for name, args in runtime if name == "HEALTHCHECK"]

    assert exposed == ["8000"]
    assert re.search(r"ENV .*\bPORT=8000\b", DOCKERFILE.replace("\\\n", " "))
    assert len(health) == 1 and "/healthz" in health[0] and "PORT" in health[0]


def _prod_local_launch(name: str) -> list[str]:
    """The gunicorn arguments ``deploy/prod-local.sh`` launches service ``name`` with."""
    script = (BASE_DIR / "deploy" / "prod-local.sh").read_text()
    launched = _found(rf'launch {name} \\\n\s*"\$BIN/gunicorn" (.*?-c \S+)', script, re.S)
    return shlex.split(launched.group(1).replace("\\", ""))


def test_image_command_is_gunicorns_wsgi_workers_as_prod_local_runs_each_web_node():
    _, runtime, _ = _stages()
    commands = [args for name, args in runtime if name == "CMD"]

    assert [json.loads(command) for command in commands] == [GUNICORN_CMD]
    assert _prod_local_launch('"web-\\$1"') == GUNICORN_CMD[1:]


def test_the_stream_pool_runs_djangos_asgi_handler_as_prod_local_runs_it():
    assert SERVICES["stream"]["command"] == STREAM_CMD
    assert _prod_local_launch("stream") == STREAM_CMD[1:]


def _gunicorn_settings(**environ: str) -> dict:
    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))


def _stream_settings(**environ: str) -> dict:
    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn-stream.conf.py"))


def test_gunicorn_settings_default_to_sync_wsgi_workers_two_a_cpu_plus_one_on_port_8000():
    with mock.patch("os.sched_getaffinity", return_value={0, 1, 2}):
        settings = _gunicorn_settings()

    assert settings["bind"] == ["0.0.0.0:8000"]
    assert (settings["workers"], settings["worker_class"], settings["threads"]) == (7, "sync", 1)
    assert _gunicorn_settings(WEB_WORKER_CLASS="gthread")["threads"] == 4
    # A large host: no more than 9 by default (each is a database connection), unless asked.
    with mock.patch("os.sched_getaffinity", return_value=set(range(32))):
        assert _gunicorn_settings()["workers"] == 9
        assert _gunicorn_settings(WEB_WORKERS="24")["workers"] == 24
    # Sync workers stay sync: more than one thread would make gunicorn run gthread instead.
    assert _gunicorn_settings(WEB_WORKER_CLASS="sync", WEB_THREADS="8")["threads"] == 1
    assert settings["preload_app"] is True
    assert settings["control_socket_disable"] is True
    assert settings["accesslog"] is None  # nginx keeps the access log


def test_the_stream_pool_is_one_uvicorn_worker_without_persistent_connections():
    settings = _stream_settings()

    assert settings["bind"] == ["0.0.0.0:8001"]
    assert settings["workers"] == 1
    assert settings["worker_class"] == "uvicorn_worker.UvicornWorker"
    # Django: "When using ASGI, persistent connections should be disabled."
    assert settings["raw_env"] == ["CONN_MAX_AGE=0"]
    assert settings["control_socket_disable"] is True
    assert _stream_settings(STREAM_BIND="127.0.0.1:9001")["bind"] == ["127.0.0.1:9001"]


def test_gunicorn_settings_follow_the_environment():
    settings = _gunicorn_settings(
        WEB_BIND="127.0.0.1:8080",
        WEB_WORKERS="2",
        WEB_GRACEFUL_TIMEOUT="10",
        WEB_WORKER_CLASS="gthread",
        WEB_THREADS="8",
    )

    assert (settings["bind"], settings["workers"], settings["graceful_timeout"]) == (
        ["127.0.0.1:8080"],
        2,
        10,
    )
    assert (settings["worker_class"], settings["threads"]) == ("gthread", 8)
    assert _gunicorn_settings(PORT="9000")["bind"] == ["0.0.0.0:9000"]


def test_compose_has_the_whole_stack():
    assert set(SERVICES) >= {"db", "redis", "migrate", "web", "stream", "nginx", "worker", "beat"}


def test_compose_database_is_mariadb_in_utf8mb4_with_a_health_check_and_a_volume():
    db = SERVICES["db"]

    assert db["image"].startswith("mariadb:")
    assert "--character-set-server=utf8mb4" in db["command"]
    assert any("utf8mb4_unicode_520_ci" in option for option in db["command"])
    assert "healthcheck.sh" in db["healthcheck"]["test"]
    assert any(volume.endswith(":/var/lib/mysql") for volume in db["volumes"])
    assert "MARIADB_ROOT_PASSWORD" not in db["environment"]


def test_compose_redis_has_a_health_check():
    redis = SERVICES["redis"]

    assert redis["image"].startswith("redis:")
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_compose_app_services_share_the_image_and_the_env_file():
    for name in APP_SERVICES:
        service = SERVICES[name]
        assert service["image"] == "smartcart:latest", name
        assert service["env_file"] == ".env", name
        environment = service["environment"]
        assert environment["SMARTCART_MODE"] == "production", name
        assert environment["DATABASE_URL"].startswith("mysql://smartcart:"), name
        assert environment["DATABASE_URL"].endswith("@db:3306/smartcart"), name
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/"), name
        assert environment["REDIS_URL"].startswith("redis://redis:6379/"), name


def test_compose_migrations_run_once_before_web_worker_and_beat():
    migrate = SERVICES["migrate"]

    assert migrate["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert migrate["restart"] == "no"
    for name in ("web", "stream", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name


def test_compose_web_runs_the_image_command_with_media_on_a_volume():
    web = SERVICES["web"]

    assert "command" not in web, "web must run the image's CMD (gunicorn, as prod-local)"
    assert "media:/data/media" in web["volumes"]
    assert "ports" not in web, "only nginx is published: the app is reached through it"
    assert "ports" not in SERVICES["stream"]


def test_compose_nginx_is_the_proxy_image_publishing_http_and_https():
    nginx = SERVICES["nginx"]

    assert nginx["build"] == {"context": ".", "target": "proxy"}
    assert SERVICES["web"]["build"] == {"context": ".", "target": "runtime"}
    assert {port.rsplit(":", 1)[1] for port in nginx["ports"]} == {"80", "443"}
    # source:target[:ro], where the source may be ${TLS_DIR:-./tls}
    mounts = {
        re.split(r":(?=/)", volume)[1].removesuffix(":ro"): volume for volume in nginx["volumes"]
    }
    assert mounts["/etc/nginx/tls"].endswith(":ro")
    assert mounts["/srv/smartcart/media"] == "media:/srv/smartcart/media:ro"
    assert "/var/log/nginx" in mounts  # the access log is kept
    assert nginx["depends_on"] == {
        "web": {"condition": "service_healthy"},
        "stream": {"condition": "service_healthy"},
    }
    upstreams = re.findall(r"server (\S+:\d+)", (NGINX_DIR / "compose.conf").read_text())
    assert upstreams == ["web:8000", "stream:8001"]


def _routes() -> str:
    return (NGINX_DIR / "smartcart-routes.conf").read_text()


def test_the_stream_route_goes_to_the_asgi_pool_unbuffered_with_a_long_timeout():
    stream = _found(r"location = /cart/events/ \{(.*?)\}", _routes(), re.S).group(1)

    assert "proxy_pass http://smartcart_stream;" in stream
    assert "proxy_buffering off;" in stream
    assert "proxy_read_timeout 1h;" in stream
    everything_else = _found(r"location / \{(.*?)\}", _routes(), re.S).group(1)
    assert "proxy_pass http://smartcart_web;" in everything_else
    # A form POST a node may have started on is never sent to another: nginx's default, kept.
    assert "non_idempotent" not in everything_else


def test_only_the_carts_api_is_resent_to_another_node_after_a_failure_mid_request():
    # Scans are idempotent by scan_id: tests/devices/test_scan_api.py,
    # test_the_same_scan_sent_again_answers_200_with_the_stored_answer_and_adds_once.
    devices = _found(r"location /api/devices/ \{(.*?)\}", _routes(), re.S).group(1)

    assert "proxy_pass http://smartcart_web;" in devices
    assert re.search(r"proxy_next_upstream error non_idempotent;", devices)
    assert "timeout" not in devices.split("proxy_next_upstream ")[1].split(";")[0]
    assert _routes().count("non_idempotent") == 1


def test_the_proxy_overwrites_the_headers_the_app_trusts():
    headers = dict(re.findall(r"proxy_set_header (\S+) (.+);", _routes()))

    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Request-ID"] == "$request_id"
    assert headers["Host"] == "$http_host"


NGINX = shutil.which("nginx", path="/usr/sbin:/usr/bin")
OPENSSL = shutil.which("openssl")


@pytest.mark.skipif(not (NGINX and OPENSSL), reason="nginx or openssl is not installed")
def test_the_compose_nginx_configuration_passes_nginx_t(tmp_path):
    assert NGINX and OPENSSL
    nginx = NGINX
    key, cert = tmp_path / "privkey.pem", tmp_path / "fullchain.pem"
    subprocess.run(  # noqa: S603 - openssl, fixed arguments
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    version = subprocess.run(  # noqa: S603
        [nginx, "-v"], capture_output=True, text=True, check=True
    ).stderr
    site = (NGINX_DIR / "compose.conf").read_text()
    if tuple(map(int, _found(r"nginx/(\d+)\.(\d+)", version).groups())) < (1, 25):
        site = site.replace("http2 on;", "")  # this machine's nginx is older than the image's
    site = (
        site.replace("/etc/nginx/smartcart-routes.conf", str(NGINX_DIR / "smartcart-routes.conf"))
        .replace("/etc/nginx/tls", str(tmp_path))
        .replace("/var/log/nginx", str(tmp_path))
        .replace("web:8000", "127.0.0.1:8000")
        .replace("stream:8001", "127.0.0.1:8001")
    )
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}/body; "
        f"proxy_temp_path {tmp_path}/proxy; include {tmp_path}/site.conf; }}\n"
    )

    result = subprocess.run(  # noqa: S603
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_compose_worker_and_beat_run_celery_with_beat_state_on_a_volume():
    worker, beat = SERVICES["worker"]["command"], SERVICES["beat"]["command"]

    assert worker[:4] == ["celery", "-A", "shopcart", "worker"]
    assert beat[:4] == ["celery", "-A", "shopcart", "beat"]
    schedule = beat[beat.index("--schedule") + 1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["beat"]["volumes"]}
    assert any(schedule.startswith(path + "/") for path in mounts), schedule
    assert "media:/data/media" in SERVICES["worker"]["volumes"]


def test_compose_declares_every_named_volume_it_mounts():
    mounted = {
        volume.split(":")[0]
        for service in SERVICES.values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/", "$"))
    }

    assert mounted == set(COMPOSE["volumes"])


def test_production_env_example_names_only_documented_variables():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.M)
    )
    example = (BASE_DIR / "deploy" / "env.production.example").read_text()
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    compose_text = (BASE_DIR / "docker-compose.yml").read_text()
    compose_only = {name for name in named if "${" + name in compose_text}

    assert named - documented == compose_only == {"MARIADB_PASSWORD"}
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL"} <= named


@pytest.mark.parametrize("script", ["prod-local.sh", "backup.sh", "restore.sh"])
def test_deploy_scripts_are_executable(script):
    assert os.access(BASE_DIR / "deploy" / script, os.X_OK)
