"""The Dockerfile, .dockerignore, docker-compose.yml and the gunicorn settings, read as files.

Docker is not available where the suite runs, so the image is never built here: these tests
check the properties a store relies on (non-root, health check, no secrets, the same server
command as ``make prod-local``) and the structure of the compose file.
"""

import json
import os
import re
import runpy
import shlex
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
APP_SERVICES = ("migrate", "web", "worker", "beat")
GUNICORN_CMD = [
    "gunicorn",
    "shopcart.asgi:application",
    "-k",
    "uvicorn_worker.UvicornWorker",
    "-c",
    "deploy/gunicorn.conf.py",
]


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


def test_image_builds_from_python_311_slim_in_two_stages():
    default = _found(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M).group(1)
    froms = [args for name, args in _instructions() if name == "FROM"]

    assert default.startswith("python:3.11-slim")
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_compiler_and_headers_stay_in_the_build_stage():
    build, runtime = _stages()
    build_runs = " ".join(args for name, args in build if name == "RUN")
    runtime_runs = " ".join(args for name, args in runtime if name == "RUN")

    for package in ("gcc", "libmariadb-dev", "pkg-config"):
        assert package in build_runs
        assert package not in runtime_runs
    assert "libmariadb3" in runtime_runs and "libzbar0" in runtime_runs
    assert "requirements/base.txt" in build_runs and "requirements/mysql.txt" in build_runs
    assert ("COPY", "--from=build /opt/venv /opt/venv") in runtime


def test_image_runs_as_an_unprivileged_user():
    users = [args for name, args in _instructions() if name == "USER"]

    assert users, "no USER: the app would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    assert re.search(rf"useradd .*{users[-1]}", DOCKERFILE)


def test_static_files_are_collected_in_production_mode_at_build_time():
    _, runtime = _stages()
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
    _, runtime = _stages()
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
    exposed = [args for name, args in _instructions() if name == "EXPOSE"]
    health = [args for name, args in _instructions() if name == "HEALTHCHECK"]

    assert exposed == ["8000"]
    assert re.search(r"ENV .*\bPORT=8000\b", DOCKERFILE.replace("\\\n", " "))
    assert len(health) == 1 and "/healthz" in health[0] and "PORT" in health[0]


def test_image_command_is_gunicorn_with_uvicorn_workers_as_prod_local_runs_it():
    commands = [args for name, args in _instructions() if name == "CMD"]
    script = (BASE_DIR / "deploy" / "prod-local.sh").read_text()
    launched = _found(r'launch web "\$BIN/gunicorn" (.*?)\n\s*(-c \S+)', script, re.S)

    assert [json.loads(command) for command in commands] == [GUNICORN_CMD]
    prod_local_args = shlex.split(launched.group(1).replace("\\", "") + " " + launched.group(2))
    assert prod_local_args == GUNICORN_CMD[1:]


def _gunicorn_settings(**environ: str) -> dict:
    with mock.patch.dict(os.environ, environ, clear=True):
        return runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))


def test_gunicorn_settings_default_to_four_uvicorn_workers_on_port_8000():
    settings = _gunicorn_settings()

    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["workers"] == 4
    assert settings["worker_class"] == "uvicorn_worker.UvicornWorker"


def test_gunicorn_settings_follow_the_environment():
    settings = _gunicorn_settings(
        WEB_BIND="127.0.0.1:8080", WEB_WORKERS="2", WEB_GRACEFUL_TIMEOUT="10"
    )

    assert (settings["bind"], settings["workers"], settings["graceful_timeout"]) == (
        ["127.0.0.1:8080"],
        2,
        10,
    )
    assert _gunicorn_settings(PORT="9000")["bind"] == ["0.0.0.0:9000"]


def test_compose_has_the_whole_stack():
    assert set(SERVICES) >= {"db", "redis", "migrate", "web", "worker", "beat"}


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
    for name in ("web", "worker", "beat"):
        depends = SERVICES[name]["depends_on"]
        assert depends["db"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name


def test_compose_web_runs_the_image_command_with_media_on_a_volume():
    web = SERVICES["web"]

    assert "command" not in web, "web must run the image's CMD (gunicorn, as prod-local)"
    assert "media:/data/media" in web["volumes"]
    assert any(port.endswith(":8000") for port in web["ports"])


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
