"""Security headers on every page: a Content-Security-Policy with no inline script."""

import re

import pytest

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", ["/", "/cart/", "/accounts/login/", "/api/docs/", "/admin/login/"])
def test_pages_forbid_inline_and_foreign_scripts(client, path):
    response = client.get(path, follow=True)

    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", ["/", "/cart/", "/accounts/login/", "/accounts/signup/"])
def test_our_pages_have_no_inline_script_the_policy_would_block(client, path):
    html = client.get(path).content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


def test_api_docs_load_their_start_up_script_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    (script_url,) = re.findall(r'<script src="([^"]*\?script[^"]*)"', page)

    script = client.get(script_url.replace("&amp;", "&"))

    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_pages_are_not_framed_and_not_sniffed(client):
    response = client.get("/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
