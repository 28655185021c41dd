"""Personas and shared fixtures.

``alice`` and ``bob`` are shoppers (bob must never see alice's things), ``staff`` is a store
manager, ``clerk`` a store clerk. ``*_client`` fixtures are Django test clients logged in as them.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import UserFactory


@pytest.fixture
def alice(db):
    return UserFactory(username="alice@example.com", first_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob@example.com", first_name="Bob")


@pytest.fixture
def staff(db):
    user = UserFactory(username="manager@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Store manager"))
    return user


@pytest.fixture
def clerk(db):
    user = UserFactory(username="clerk@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Store clerk"))
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
    return _client_for(staff)


@pytest.fixture
def clerk_client(clerk):
    return _client_for(clerk)
