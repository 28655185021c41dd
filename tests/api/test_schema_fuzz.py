"""Hostile input for every API operation, generated from the OpenAPI schema by schemathesis.

Each operation of the device, cart and product APIs gets ``FUZZ_EXAMPLES`` generated requests
(valid and invalid bodies, odd strings, boundary numbers, wrong types), sent with the right
credentials for its API, in-process through Django's WSGI handler and the test database.
Every answer must be free of server errors and match the schema: its status code documented,
its content type and body the documented ones. ``SMARTCART_FUZZ_EXAMPLES`` sets the count:
60 by default (about 700 requests), 300 in CI's MariaDB run (about 3,600).

Generated bodies are shallow and valid Unicode, so every operation with a JSON body is also
sent ``HOSTILE_BODIES`` explicitly: JSON a thousand levels deep (a ``RecursionError`` in
Python's decoder, once a 500) and text with a lone surrogate (which the database cannot store).
Each must be answered with the operation's documented 400, under the same checks.
"""

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from carts.services import cart_pass_issue
from catalog.models import Product
from devices.services import device_pair
from shopcart.wsgi import application
from tests.factories import BarcodeFactory

FUZZ_EXAMPLES = int(os.environ.get("SMARTCART_FUZZ_EXAMPLES", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# Loaded once at collection, from the running app's own schema view (no database needed).
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def _connections_kept_open() -> Iterator[None]:
    """The WSGI calls run inside the test's transaction; Django's handler would close the
    connection at the end of each (as Django's own test client prevents, so do we)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(alice, staff, device, device_key, settings, _connections_kept_open):
    """The Authorization header each API expects, for a store with a few products."""
    settings.DEVICE_THROTTLE_RATE = "1000000/min"  # the fuzzer is not a cart in a hurry
    for _ in range(3):
        BarcodeFactory()
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    return {
        "/api/devices/": f"Device {device_key}",
        "/api/v1/cart/": f"Token {Token.objects.create(user=alice).key}",
        "/api/v1/products/": f"Token {Token.objects.create(user=staff).key}",
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_generated_requests_within_its_schema(case, credentials):
    prefix = next(prefix for prefix in credentials if case.path.startswith(prefix))

    case.call_and_validate(headers={"Authorization": credentials[prefix]}, checks=CHECKS)


HOSTILE_BODIES = {
    "arrays 1000 deep": b"[" * 1000 + b"]" * 1000,
    "objects 1000 deep": b'{"a": ' * 1000 + b"1" + b"}" * 1000,
    "deep inside a body": b'{"name": "Jam", "code": "x", "qty": ' + b"[" * 1000,
    "lone surrogate": b'{"name": "\\ud800", "code": "\\ud800", "firmware_version": "\\ud800"}',
}


def _operations_taking_json() -> Iterator[APIOperation]:
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema is valid (tests/test_api_docs.py)
        if "application/json" in result.ok().get_request_payload_content_types():
            yield result.ok()


@pytest.mark.django_db
@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES)
@pytest.mark.parametrize(
    "operation", list(_operations_taking_json()), ids=lambda operation: operation.label
)
def test_api_answers_hostile_json_with_its_documented_400(operation, body, credentials):
    prefix = next(prefix for prefix in credentials if operation.path.startswith(prefix))
    path_parameters = {"id": Product.objects.latest("pk").pk} if "{id}" in operation.path else {}
    case = operation.Case(body=body, media_type="application/json", path_parameters=path_parameters)

    response = case.call_and_validate(headers={"Authorization": credentials[prefix]}, checks=CHECKS)

    assert response.status_code == 400
