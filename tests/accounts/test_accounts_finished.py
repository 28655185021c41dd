"""Accounts that feel finished (issue 19, item 6): a stale form explains itself, confirming signs
in, emails speak as the store, allauth's headings are in the store's words, and the error pages
are the store's own.
"""

import re
from pathlib import Path

import allauth
import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.html import escape

from carts.services import cart_pass_email
from shopcart.core.errors import ERROR_CSRF, ERROR_CSRF_API, ERROR_CSRF_NO_COOKIE
from shopcart.templatetags.site_words import ALLAUTH_HEADINGS, site_words
from tests.accounts.conftest import PASSWORD
from tests.accounts.support import link_in, sign_up

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
RESET = reverse("account_reset_password")
DJANGOS_CSRF_PAGE = "CSRF verification failed"


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- A stale form ---------------------------------------------------------------------------


def stale_login_post(client: Client, **headers: str):
    """Sign in on "another tab" (the CSRF token is renewed), then send this tab's old form."""
    client.get(LOGIN)
    old_token = client.cookies[settings.CSRF_COOKIE_NAME].value
    other_tab = {
        "login": "carol@example.com",
        "password": PASSWORD,
        "csrfmiddlewaretoken": old_token,
    }
    assert client.post(LOGIN, other_tab).status_code == 302
    return client.post(LOGIN, other_tab, **headers)


def test_a_stale_sign_in_form_gets_the_stores_page_that_offers_a_retry(confirmed_user):
    confirmed_user("carol@example.com")
    client = Client(enforce_csrf_checks=True)

    response = stale_login_post(client, HTTP_REFERER=f"http://testserver{LOGIN}")

    assert response.status_code == 403
    page = response.content.decode()
    assert DJANGOS_CSRF_PAGE not in page
    assert escape(ERROR_CSRF) in page
    assert f'href="http://testserver{LOGIN}"' in page  # back to the page the form came from
    assert f"<title>Please try that again · {settings.STORE_NAME}</title>" in page


def test_the_retry_never_leads_to_another_site(confirmed_user):
    confirmed_user("carol@example.com")
    client = Client(enforce_csrf_checks=True)

    page = stale_login_post(client, HTTP_REFERER="https://evil.example/").content.decode()

    assert "evil.example" not in page
    assert f'href="{reverse("catalog:home")}"' in page


def test_a_form_without_the_cookie_says_to_allow_cookies():
    response = Client(enforce_csrf_checks=True).post(RESET, {"email": "carol@example.com"})

    assert response.status_code == 403
    assert escape(ERROR_CSRF_NO_COOKIE) in response.content.decode()


def test_a_script_asking_for_json_gets_json():
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("carts:coupon_apply"), HTTP_ACCEPT="application/json")

    assert response.status_code == 403
    assert response.json() == {"detail": ERROR_CSRF_API}


# --- Confirming signs in ----------------------------------------------------------------------


def test_confirming_in_the_browser_that_signed_up_signs_the_shopper_in(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    confirm_path = link_in(mail.outbox[0], "/accounts/confirm-email/")
    assert not signed_in(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_path)

    assert signed_in(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:home")


def test_a_confirmation_link_opened_elsewhere_signs_nobody_in(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)
    confirm_path = link_in(mail.outbox[0], "/accounts/confirm-email/")
    elsewhere = Client()

    with django_capture_on_commit_callbacks(execute=True):
        response = elsewhere.post(confirm_path)

    assert not signed_in(elsewhere)
    assert response["Location"] == LOGIN


# --- Emails speak as the store ----------------------------------------------------------------


def test_the_confirmation_email_greets_there_and_comes_from_the_store(
    client, django_capture_on_commit_callbacks
):
    sign_up(client, django_capture_on_commit_callbacks)

    [message] = mail.outbox
    assert message.from_email == f"{settings.STORE_NAME} <shop@example.com>"
    assert message.subject == f"Confirm your email address for {settings.STORE_NAME}"
    assert message.body.startswith("Hello there,\n")
    assert settings.STORE_NAME in message.body
    # allauth's own words named the request's host as the site, and the shopper a "user".
    for allauths_words in ("user dora", "on testserver", "Hello from", "Please Confirm"):
        assert allauths_words not in message.body + message.subject


def test_a_password_reset_email_greets_by_first_name(
    client, confirmed_user, django_capture_on_commit_callbacks
):
    confirmed_user("carol@example.com", first_name="Carol")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESET, {"email": "carol@example.com"})

    [message] = mail.outbox
    assert message.body.startswith("Hello Carol,\n")
    assert message.subject == f"Reset your {settings.STORE_NAME} password"
    assert message.from_email.startswith(settings.STORE_NAME)
    assert "Hello from" not in message.body and "Password Reset" not in message.subject


def test_the_cart_pass_email_greets_there_and_comes_from_the_store(
    confirmed_user, django_capture_on_commit_callbacks
):
    dora = confirmed_user("dora@example.com", first_name="")

    with django_capture_on_commit_callbacks(execute=True):
        cart_pass_email(user=dora)

    [message] = mail.outbox
    assert message.body.startswith("Hello there,\n")
    assert message.from_email == f"{settings.STORE_NAME} <shop@example.com>"


def test_an_address_without_a_name_is_sent_from_the_store_by_name():
    from tests.settings_probe import python_in_project

    probe = (
        "import environ\n"
        "environ.Env.read_env = staticmethod(lambda *args, **kwargs: None)\n"
        "from django.conf import settings\n"
        "print(settings.DEFAULT_FROM_EMAIL)\n"
    )
    result = python_in_project(probe, STORE_NAME="Corner Shop", DEFAULT_FROM_EMAIL="hi@corner.test")

    assert result.stdout.strip() == "Corner Shop <hi@corner.test>", result.stderr


# --- allauth's headings in the store's words ------------------------------------------------

ALLAUTH_TEMPLATES = Path(allauth.__file__).parent / "templates"
HEADING = re.compile(
    r"{% element h1[^%]*%}(.*?){% endelement %}|{% block head_title %}(.*?){% endblock", re.S
)
TRANSLATED = re.compile(r"""{% trans(?:late)? ["']([^"']+)["']""")


def allauth_headings() -> set[str]:
    found = set()
    for template in ALLAUTH_TEMPLATES.rglob("*.html"):
        for match in HEADING.finditer(template.read_text()):
            found.update(TRANSLATED.findall(match[1] or match[2]))
    return found


def test_every_heading_allauth_can_show_is_in_the_stores_words():
    headings = allauth_headings()

    assert len(headings) > 20, "found too few headings: is the pattern still right?"
    assert headings - set(ALLAUTH_HEADINGS) == set()
    assert all(site_words(heading) != heading for heading in headings - {"Error"} if heading)


def test_a_reused_reset_link_shows_no_bad_token_heading(client):
    page = client.get(
        reverse("account_reset_password_from_key", args=["1", "nonsense"]), follow=True
    )

    text = page.content.decode()
    assert "Bad Token" not in text
    assert '<h1 class="auth__title">This link has already been used</h1>' in text
    assert f"<title>This link has already been used · {settings.STORE_NAME}</title>" in text


# --- The store's own error pages ----------------------------------------------------------------


class BugInMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise RuntimeError("a bug")


def assert_store_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page
    assert "/static/css/site.css" in page
    assert settings.STORE_NAME in page
    assert "<style" not in page  # the CSP: our stylesheet only


@override_settings(DEBUG=False)
def test_a_bad_request_gets_the_stores_400_page():
    response = Client().get("/", HTTP_HOST="not-allowed.example")

    assert_store_page(response, 400, "The store could not read that")


@override_settings(DEBUG=False)
def test_a_shopper_on_a_staff_page_gets_the_stores_403_page(alice_client):
    assert_store_page(
        alice_client.get(reverse("orders_staff:exit_check")), 403, "Not for this account"
    )


@override_settings(DEBUG=False)
def test_a_missing_page_gets_the_stores_404_page(client):
    assert_store_page(client.get("/no-such-page/"), 404, "Page not found")


@override_settings(DEBUG=False)
def test_a_bug_gets_the_stores_500_page():
    client = Client(raise_request_exception=False)
    with override_settings(MIDDLEWARE=[f"{__name__}.BugInMiddleware", *settings.MIDDLEWARE]):
        response = client.get("/")

    assert_store_page(response, 500, "Something went wrong")


@override_settings(DEBUG=False)
def test_api_clients_get_json_for_a_bad_request():
    response = Client().get("/api/v1/products/", HTTP_HOST="not-allowed.example")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
