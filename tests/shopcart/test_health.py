"""/healthz and /readyz: liveness without I/O, readiness naming the failing part."""

import socket

import pytest
from django.conf import settings


def closed_port_url(scheme: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}/0"


def test_healthz_answers_without_touching_the_database(client):
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_the_database(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_names_a_redis_that_is_down(client, settings):
    settings.CELERY_BROKER_URL = ""
    settings.REDIS_URL = closed_port_url("redis")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "down"}


@pytest.mark.django_db
def test_readyz_names_a_broker_that_is_down(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = closed_port_url("redis")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


@pytest.mark.django_db
def test_readyz_does_not_log_the_connection_string(client, settings, caplog):
    settings.REDIS_URL = closed_port_url("redis").replace("//", "//user:s3cret-pass@")

    client.get("/readyz")

    assert "redis" in caplog.text
    assert "s3cret-pass" not in caplog.text


@pytest.mark.django_db
@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: no Redis to reach")
def test_readyz_reaches_the_configured_redis_and_broker(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert set(response.json()["checks"]) >= {"database", "redis"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_endpoints_are_get_only(client, path):
    assert client.post(path).status_code == 405
