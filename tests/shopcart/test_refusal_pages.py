"""A service's refusal that no view answered gets its own status and message (the HTML error
path, ``shopcart.core.errors.RefusalMiddleware``), never a 500."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import include, path

from carts.services import CartClosed, NotInCart

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

raised: dict[str, Exception] = {"error": CartClosed("This cart is being paid for.")}


def refusing_view(request: HttpRequest) -> HttpResponse:
    raise raised["error"]


urlpatterns = [
    path("refuse/", refusing_view),
    path("api/v1/refuse/", refusing_view),
    path("", include("shopcart.urls")),
]


@override_settings(DEBUG=False)
def test_a_refusal_in_a_page_answers_its_status_with_its_message(alice_client):
    response = alice_client.get("/refuse/")

    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert "This cart is being paid for." in response.content.decode()
    assert "Back to your cart" in response.content.decode()


@override_settings(DEBUG=False)
def test_a_refusal_under_the_api_answers_json_with_its_code(client, monkeypatch):
    monkeypatch.setitem(raised, "error", NotInCart("“Milk” is not in your cart."))

    response = client.get("/api/v1/refuse/")

    assert response.status_code == 400
    assert response.json() == {"detail": "“Milk” is not in your cart.", "code": "not_in_cart"}


@override_settings(DEBUG=False)
def test_anything_else_is_still_a_server_error(client, monkeypatch):
    monkeypatch.setitem(raised, "error", RuntimeError("a bug"))
    client.raise_request_exception = False

    response = client.get("/refuse/")

    assert response.status_code == 500
