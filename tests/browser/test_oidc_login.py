"""A real OpenID Connect login in Chromium, against the loopback provider of tests/oidc_provider.

The shopper clicks the provider's button on smartcart's login page, signs in on the provider,
approves the consent page, and comes back signed in to smartcart with the name and verified
email address the provider vouched for. allauth's token and userinfo requests go from the
live_server thread to the provider process over loopback: nothing is mocked.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import OidcProvider, is_png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PROVIDER_NAME = "Loopback ID"


@pytest.fixture
def loopback_configured(settings, oidc_provider: OidcProvider) -> OidcProvider:
    """smartcart configured the way OIDC_* environment variables configure it, plus PKCE."""
    app = {
        "provider_id": oidc_provider.provider_id,
        "name": PROVIDER_NAME,
        "client_id": oidc_provider.client_id,
        "secret": oidc_provider.client_secret,
        # The provider, like django-oauth-toolkit's default, refuses codes without PKCE.
        "settings": {"server_url": oidc_provider.server_url, "oauth_pkce_enabled": True},
    }
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": [app]}}
    return oidc_provider


def provider_button(page):
    # A link to allauth's provider login view, or a button posting to it: either will do.
    return page.get_by_role("link", name=PROVIDER_NAME).or_(
        page.get_by_role("button", name=PROVIDER_NAME)
    )


def sign_out_button(page):
    # The site nav's: shown only to a signed-in user.
    return page.get_by_role("button", name="Sign out")


def session_user_id(page, live_server) -> str | None:
    cookies = {c["name"]: c["value"] for c in page.context.cookies(live_server.url)}
    session = Session.objects.filter(session_key=cookies.get("sessionid")).first()
    return session.get_decoded().get(SESSION_KEY) if session else None


def provider_consent_open(page, live_server, provider: OidcProvider) -> None:
    """From smartcart's login page to the provider's consent page, signing in on the way."""
    login_url = live_server.url + reverse("account_login")
    page.goto(login_url)
    provider_button(page).click()
    page.wait_for_url(lambda url: url != login_url)
    if page.url.startswith(live_server.url):
        # SOCIALACCOUNT_LOGIN_ON_GET is off: allauth asks for a POST before leaving the store.
        page.get_by_role("button", name=re.compile("continue", re.IGNORECASE)).click()

    expect(page).to_have_url(re.compile(re.escape(provider.url + "/accounts/login/")))
    page.get_by_label("Username").fill(provider.username)
    page.get_by_label("Password").fill(provider.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Allow smartcart to use your Loopback ID?"
    )


def test_shopper_signs_in_through_an_openid_connect_provider(
    live_server, page, loopback_configured, tmp_path
):
    provider = loopback_configured
    provider_consent_open(page, live_server, provider)
    page.screenshot(path=tmp_path / "oidc-consent.png", full_page=True)
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(live_server.url + reverse("catalog:home"))
    shopper = get_user_model().objects.get(email=provider.email)
    assert (shopper.first_name, shopper.last_name) == (provider.first_name, provider.last_name)
    address = EmailAddress.objects.get(user=shopper)
    assert (address.email, address.verified, address.primary) == (provider.email, True, True)
    account = SocialAccount.objects.get(user=shopper)
    assert account.provider == provider.provider_id
    assert account.extra_data["userinfo"]["preferred_username"] == provider.username
    assert session_user_id(page, live_server) == str(shopper.pk)
    expect(sign_out_button(page).first).to_be_visible()
    screenshot = tmp_path / "oidc-signed-in.png"
    page.screenshot(path=screenshot, full_page=True)
    assert is_png(screenshot)


def test_login_page_has_no_button_for_a_provider_that_is_not_configured(
    live_server, page, settings
):
    settings.SOCIALACCOUNT_PROVIDERS = {}

    page.goto(live_server.url + reverse("account_login"))

    # The page did render its login form: the missing button is not a missing page.
    expect(page.locator("input[name=password]")).to_be_visible()
    expect(provider_button(page)).to_have_count(0)
    expect(page.get_by_text(PROVIDER_NAME)).to_have_count(0)


def test_shopper_who_denies_consent_stays_signed_out(live_server, page, loopback_configured):
    provider = loopback_configured
    provider_consent_open(page, live_server, provider)

    page.get_by_role("button", name="Deny").click()

    # The provider sends the shopper back with error=access_denied; allauth makes no account.
    expect(page).to_have_url(re.compile(re.escape(live_server.url + "/accounts/")))
    assert not get_user_model().objects.filter(email=provider.email).exists()
    assert session_user_id(page, live_server) is None
    expect(sign_out_button(page)).to_have_count(0)
