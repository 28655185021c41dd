"""Social login buttons: only providers with a configured app get one, on login and sign-up."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
SIGNUP = reverse("account_signup")


def app(client_id: str, **extra) -> dict:
    return {"APPS": [{"client_id": client_id, "secret": f"{client_id}-secret", **extra}]}


@pytest.fixture
def no_providers(settings):
    # Whatever the developer's environment configures, these tests start with none.
    settings.SOCIALACCOUNT_PROVIDERS = {}


@pytest.mark.parametrize("url", [LOGIN, SIGNUP])
def test_no_buttons_when_no_provider_is_configured(client, no_providers, url):
    page = client.get(url).text

    assert 'class="providers"' not in page
    assert "or continue with" not in page
    assert "/accounts/google/" not in page and "/accounts/facebook/" not in page


@pytest.mark.parametrize("url", [LOGIN, SIGNUP])
def test_google_and_facebook_appear_when_configured_in_settings(client, settings, url):
    settings.SOCIALACCOUNT_PROVIDERS = {"google": app("g-id"), "facebook": app("f-id")}

    page = client.get(url).text

    assert "or continue with" in page
    for name, login_url in (("Google", "google_login"), ("Facebook", "facebook_login")):
        assert f'href="{reverse(login_url)}?process=login"' in page
        assert f'<span class="provider__name">{name}</span>' in page


def test_only_the_configured_provider_appears(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"facebook": app("f-id")}

    page = client.get(LOGIN).text

    assert reverse("facebook_login") in page
    assert reverse("google_login") not in page


def test_openid_connect_provider_appears_by_its_configured_name(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": app(
            "oidc-id",
            provider_id="corner-sso",
            name="Corner Shop staff SSO",
            settings={"server_url": "https://id.example.com"},
        )
    }

    page = client.get(LOGIN).text

    url = reverse("openid_connect_login", kwargs={"provider_id": "corner-sso"})
    assert f'href="{url}?process=login"' in page
    assert '<span class="provider__name">Corner Shop staff SSO</span>' in page


def test_a_social_application_added_in_the_admin_shows_its_button(client, no_providers):
    SocialApp.objects.create(provider="google", name="Google", client_id="g-id", secret="s")

    page = client.get(LOGIN).text

    assert f'href="{reverse("google_login")}?process=login"' in page
