"""A URL that matches nothing: JSON for API clients, the shop's page for people."""

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=False)
@pytest.mark.parametrize("path", ["/api/v1/products/not-a-number/", "/api/devices/v1/nothing/"])
def test_api_paths_answer_json_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@override_settings(DEBUG=False)
def test_shop_paths_answer_the_html_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content
