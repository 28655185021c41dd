"""The OpenAPI schema and the interactive docs: public, valid, and working without internet."""

from html.parser import HTMLParser

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

SCHEMA_URL = reverse("api-schema")
DOCS_URL = reverse("api-docs")


class AssetCollector(HTMLParser):
    """Collects every URL a page loads through <script src> and <link href>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def fetch_schema(client) -> dict:
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_a_valid_openapi_document_listing_the_product_paths(client):
    schema = fetch_schema(client)

    validate_schema(schema)  # raises on anything that is not valid OpenAPI 3
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/products/", "/api/v1/products/{id}/"} <= set(schema["paths"])
    detail = schema["paths"]["/api/v1/products/{id}/"]
    assert set(detail) >= {"get", "put", "patch", "delete"}


def test_schema_shows_the_request_and_response_shapes_with_an_example(client):
    schema = fetch_schema(client)

    create = schema["paths"]["/api/v1/products/"]["post"]
    request = create["requestBody"]["content"]["application/json"]
    assert request["examples"]["OatMilk"]["value"]["barcodes"] == ["036602301467"]
    components = schema["components"]["schemas"]
    assert components["ProductInputRequest"]["required"] == ["name", "price"]
    assert "barcodes" in components["Product"]["properties"]
    listing = schema["paths"]["/api/v1/products/"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"search", "category", "active", "page"}


def test_schema_and_docs_are_readable_without_logging_in(client):
    # Public on purpose: they describe shapes, never data; every endpoint still demands staff.
    assert client.get(SCHEMA_URL).status_code == 200
    assert client.get(DOCS_URL).status_code == 200


def test_docs_page_loads_only_bundled_local_static_assets(client):
    response = client.get(DOCS_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "http://" not in page
    assert "https://" not in page
    collector = AssetCollector()
    collector.feed(page)
    assert any(url.endswith("swagger-ui-bundle.js") for url in collector.urls)
    static_url = "/" + settings.STATIC_URL.lstrip("/")
    # Swagger UI's start-up script comes from the docs URL itself (no inline script: CSP).
    local_script = f"{DOCS_URL}?script="
    assert any(url.startswith(local_script) for url in collector.urls)
    for url in collector.urls:
        if url.startswith(local_script):
            continue
        assert url.startswith(static_url), url
        assert finders.find(url.removeprefix(static_url)) is not None, url
