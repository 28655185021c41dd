"""Personas and shared fixtures.

``alice`` and ``bob`` are shoppers (bob must never see alice's things), ``staff`` is a store
manager (with an authenticator app set up, as managers must), ``clerk`` a store clerk.
``*_client`` fixtures are Django test clients logged in as them; ``staff_client``'s session has
also given the second factor, as a manager's sign-in does (``second_factor_given``).
``device`` is a registered cart, ``device_key`` its raw key and ``device_client`` a client
sending ``Authorization: Device``.

A test marked ``mysql`` (``@pytest.mark.mysql``, or ``@pytest.mark.mysql(reason=...)`` to say
what SQLite lacks for it) is skipped, with the reason printed, unless the run is on
MySQL/MariaDB (``DATABASE_URL``).
"""

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client

from carts import events
from carts.events import InProcessBroker
from devices.key_cache import device_keys_forget_all
from devices.services import device_register
from shopcart.celery import app as celery_app
from shopcart.core.staff_mfa import totp_secret_set
from tests.factories import UserFactory
from tests.support import second_factor_given

MYSQL_NEEDED_FOR = "real row locks and concurrent writers"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On SQLite, the test database is a file, not Django's default in-memory one: a live
    server (the browser tests) then gives each of its request threads a connection of its own,
    as a real server does. An in-memory database is one connection shared by every thread, and
    a page's requests running beside a device's scan would interleave their transactions on it
    (Django's documentation warns of exactly this)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        folder = tmp_path_factory.mktemp("database")
        settings_dict["TEST"]["NAME"] = str(folder / "test.sqlite3")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if connection.vendor == "mysql":
        return
    for item in items:
        marker = item.get_closest_marker("mysql")
        if marker is not None:
            why = marker.kwargs.get("reason", MYSQL_NEEDED_FOR)
            reason = (
                f"needs MySQL/MariaDB (set DATABASE_URL=mysql://...): {why}; "
                f"this run uses {connection.vendor}"
            )
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def local_broker(monkeypatch):
    """The live events' in-process broker, whatever REDIS_URL says: a stream or listener and the
    change that publishes share it."""
    broker = InProcessBroker()
    monkeypatch.setattr(events, "broker", lambda: broker)
    return broker


@pytest.fixture
def alice(db):
    return UserFactory(username="alice@example.com", first_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob@example.com", first_name="Bob")


def _store_group(name: str) -> Group:
    # Made after migrate (catalog.staff_groups); a transactional test's flush makes them again.
    return Group.objects.get(name=name)


@pytest.fixture
def staff(db):
    user = UserFactory(username="manager@example.com", is_staff=True)
    user.groups.add(_store_group("Store manager"))
    # Store managers must have two-factor set up to open staff pages (shopcart/core/staff_mfa.py).
    totp_secret_set(user=user, secret=generate_totp_secret())
    return user


@pytest.fixture
def clerk(db):
    user = UserFactory(username="clerk@example.com", is_staff=True)
    user.groups.add(_store_group("Store clerk"))
    return user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return _client_for(alice)


@pytest.fixture
def bob_client(bob):
    return _client_for(bob)


@pytest.fixture
def staff_client(staff):
    return second_factor_given(_client_for(staff), staff)


@pytest.fixture
def clerk_client(clerk):
    return _client_for(clerk)


@pytest.fixture
def _device_registered(db):
    return device_register(name="Cart 1")


@pytest.fixture
def device(_device_registered):
    return _device_registered[0]


@pytest.fixture
def device_key(_device_registered):
    return _device_registered[1]


@pytest.fixture
def device_client(device_key):
    return Client(headers={"Authorization": f"Device {device_key}"})


@pytest.fixture(autouse=True)
def _device_keys_forgotten():
    """Each test starts with no device key remembered by the process (devices.key_cache): a
    device of an earlier test, rolled back, may have had the same id."""
    device_keys_forget_all()


@pytest.fixture(autouse=True)
def _enrolment_budget_ample(settings):
    """The store's enrolment budget (devices.throttling) is counted in the shared cache, which
    outlives a test's database and the frozen clocks of many tests: ample here, so one test's
    enrolments never throttle another's. The throttle's own test sets its rate."""
    settings.DEVICE_ENROL_THROTTLE_RATE = "1000000/min"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is deliberately slow; tests create many users and need no protection.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_tasks_run_eagerly():
    """Tasks run in the test's process even when CELERY_BROKER_URL points at a real broker.

    The Celery app reads its configuration once, so Django's ``settings`` fixture cannot reach
    it. Tests that exercise a real worker start one and switch this off themselves.
    """
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _recommendations_version_forgotten():
    """Each test's database has its own recommendation builds: the serving's cached pointer
    to the current one (catalog.suggestions) must not come from another test."""
    from django.core.cache import cache

    from catalog.suggestions import VERSION_KEY

    cache.delete(VERSION_KEY)
    yield
    cache.delete(VERSION_KEY)
