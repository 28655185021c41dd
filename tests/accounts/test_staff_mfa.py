"""Staff two-factor: the admin signs in through allauth; store managers must use TOTP, and give
a code in each session, before any staff page (the admin, the dashboard, the exit check, the API).

Logins here go through the real forms (email and password, then the code), as a browser's would.
"""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, generate_totp_secret
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from shopcart.core.staff_mfa import (
    ERROR_API_MFA_AUTHENTICATE,
    ERROR_API_MFA_REQUIRED,
    MESSAGE_MFA_AUTHENTICATE,
    MESSAGE_MFA_REQUIRED,
    staff_mfa_missing,
    totp_secret_set,
)
from tests.accounts.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.django_db

ADMIN = reverse("admin:index")
ADMIN_PRODUCTS = reverse("admin:catalog_product_changelist")
LOGIN = reverse("account_login")
MFA_AUTHENTICATE = reverse("mfa_authenticate")
ACTIVATE_TOTP = reverse("mfa_activate_totp")
REAUTHENTICATE = reverse("account_reauthenticate")
DASHBOARD = reverse("admin-dashboard")
EXIT_CHECK = reverse("orders_staff:exit_check")
PRODUCTS_API = reverse("catalog-api:product_list")
ISSUE_TOKEN = reverse("admin:authtoken_tokenproxy_add")


def code_page(next_url: str) -> str:
    """allauth's page asking a signed-in person for a code, sending them on to ``next_url``."""
    return f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}"


@pytest.fixture
def manager(confirmed_user):
    user = confirmed_user("boss@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Store manager"))
    return user


@pytest.fixture
def manager_secret(manager) -> str:
    secret = generate_totp_secret()
    totp_secret_set(user=manager, secret=secret)
    return secret


def password_login(client: Client, email: str, next_url: str = ADMIN):
    return client.post(LOGIN, {"login": email, "password": PASSWORD, "next": next_url})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_manager_without_totp_is_sent_from_any_admin_page_to_totp_activation(client, manager):
    assert password_login(client, "boss@example.com")["Location"] == ADMIN

    for url in (ADMIN, ADMIN_PRODUCTS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == ACTIVATE_TOTP

    # allauth asks for the password once more before a two-factor change; the message says why.
    page = client.get(ACTIVATE_TOTP, follow=True)
    assert urlsplit(page.redirect_chain[-1][0]).path == REAUTHENTICATE
    assert MESSAGE_MFA_REQUIRED in page.text
    response = client.post(REAUTHENTICATE, {"password": PASSWORD, "next": ACTIVATE_TOTP})
    assert response["Location"] == ACTIVATE_TOTP
    page = client.get(ACTIVATE_TOTP)
    assert page.status_code == 200
    assert 'name="code"' in page.text
    assert client.session[SECRET_SESSION_KEY] in page.text


def test_manager_without_totp_still_reaches_the_account_pages(client, manager):
    client.force_login(manager)

    for name in ("account_email", "account_change_password", "mfa_index", "account_logout"):
        assert client.get(reverse(name)).status_code == 200, name
    # Signing out of the admin is never blocked.
    assert client.post(reverse("admin:logout")).status_code == 200
    assert SESSION_KEY not in client.session


def test_manager_who_activates_totp_gives_a_code_then_reaches_the_admin(client, manager):
    password_login(client, "boss@example.com")
    client.post(REAUTHENTICATE, {"password": PASSWORD})
    client.get(ACTIVATE_TOTP)
    secret = client.session[SECRET_SESSION_KEY]

    response = client.post(ACTIVATE_TOTP, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=manager, type=Authenticator.Type.TOTP).exists()
    # This session signed in with the password alone: it gives a code once, then goes on.
    assert client.get(ADMIN)["Location"] == code_page(ADMIN)
    response = client.post(code_page(ADMIN), {"code": totp_code(secret)})
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_a_session_signed_in_before_totp_was_set_up_must_give_a_code_on_every_staff_surface(
    client, manager
):
    # Someone signed in with the manager's password before the manager set up TOTP.
    password_login(client, "boss@example.com")
    secret = generate_totp_secret()
    totp_secret_set(user=manager, secret=secret)

    for url in (ADMIN, ADMIN_PRODUCTS, DASHBOARD, EXIT_CHECK):
        assert client.get(url)["Location"] == code_page(url), url
    api = client.get(PRODUCTS_API)
    assert (api.status_code, api.json()) == (403, {"detail": ERROR_API_MFA_AUTHENTICATE})

    page = client.get(code_page(EXIT_CHECK))
    assert MESSAGE_MFA_AUTHENTICATE in page.text
    assert 'name="code"' in page.text
    response = client.post(code_page(EXIT_CHECK), {"code": totp_code(secret)})
    assert response["Location"] == EXIT_CHECK
    for url in (ADMIN, ADMIN_PRODUCTS, DASHBOARD, EXIT_CHECK, PRODUCTS_API):
        assert client.get(url).status_code == 200, url


def test_a_wrong_code_on_the_code_page_opens_nothing(client, manager, manager_secret):
    client.force_login(manager)
    right = totp_code(manager_secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post(code_page(EXIT_CHECK), {"code": wrong})

    assert response.status_code == 200
    assert str(DefaultMFAAdapter.error_messages["incorrect_code"]) in response.text
    assert client.get(EXIT_CHECK)["Location"] == code_page(EXIT_CHECK)


def test_api_tokens_are_issued_only_after_two_factors(client, confirmed_user, manager):
    # Tokens are issued in the admin (by superusers: the admin asks for the token proxy's
    # permissions), which asks for the code first.
    root = confirmed_user("root@example.com", is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    totp_secret_set(user=root, secret=secret)
    client.force_login(root)
    assert client.get(ISSUE_TOKEN)["Location"] == code_page(ISSUE_TOKEN)
    response = client.post(ISSUE_TOKEN, {"user": manager.pk})
    assert response["Location"] == code_page(ISSUE_TOKEN)
    assert not Token.objects.exists()

    client.post(code_page(ISSUE_TOKEN), {"code": totp_code(secret)})

    assert client.get(ISSUE_TOKEN).status_code == 200
    assert client.post(ISSUE_TOKEN, {"user": manager.pk}).status_code == 302
    assert Token.objects.filter(user=manager).exists()


def test_a_manager_without_totp_is_sent_to_set_it_up_from_every_staff_surface(client, manager):
    client.force_login(manager)

    for url in (ADMIN, DASHBOARD, EXIT_CHECK):
        response = client.get(url)
        assert response["Location"] == ACTIVATE_TOTP, url
        assert MESSAGE_MFA_REQUIRED in messages_of(response), url
    api = client.get(PRODUCTS_API)
    assert (api.status_code, api.json()) == (403, {"detail": ERROR_API_MFA_REQUIRED})


def test_manager_with_totp_signs_in_with_password_then_code(client, manager, manager_secret):
    # The admin's own login page hands over to allauth's.
    to_login = client.get(reverse("admin:login"), {"next": ADMIN})
    location = urlsplit(to_login["Location"])
    assert (location.path, parse_qs(location.query)) == (LOGIN, {"next": [ADMIN]})

    response = password_login(client, "boss@example.com")

    assert response["Location"] == MFA_AUTHENTICATE
    assert SESSION_KEY not in client.session
    assert client.get(ADMIN).status_code == 302  # not in yet

    response = client.post(MFA_AUTHENTICATE, {"code": totp_code(manager_secret)})

    assert response["Location"] == ADMIN
    assert client.session[SESSION_KEY] == str(manager.pk)
    assert client.get(ADMIN).status_code == 200


def test_a_wrong_code_is_refused(client, manager, manager_secret):
    password_login(client, "boss@example.com")
    right = totp_code(manager_secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post(MFA_AUTHENTICATE, {"code": wrong})

    assert response.status_code == 200
    assert str(DefaultMFAAdapter.error_messages["incorrect_code"]) in response.text
    assert SESSION_KEY not in client.session
    assert client.get(ADMIN).status_code == 302


def test_a_code_is_accepted_only_once(client, manager, manager_secret):
    code = totp_code(manager_secret)
    password_login(client, "boss@example.com")
    client.post(MFA_AUTHENTICATE, {"code": code})
    again = Client()
    password_login(again, "boss@example.com")

    response = again.post(MFA_AUTHENTICATE, {"code": code})

    assert response.status_code == 200
    assert SESSION_KEY not in again.session


def test_clerk_reaches_the_admin_with_a_password_alone(client, confirmed_user):
    clerk = confirmed_user("till@example.com", is_staff=True)
    clerk.groups.add(Group.objects.get(name="Store clerk"))

    assert password_login(client, "till@example.com")["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200
    assert client.get(ADMIN_PRODUCTS).status_code == 200


def test_clerk_persona_is_not_asked_for_two_factor(clerk_client):
    assert clerk_client.get(ADMIN).status_code == 200


def test_staff_persona_has_totp_and_reaches_the_admin(staff, staff_client):
    assert not staff_mfa_missing(staff)
    assert staff_client.get(ADMIN).status_code == 200


def test_anonymous_visitors_end_at_the_login_page(client):
    response = client.get(ADMIN_PRODUCTS, follow=True)

    assert response.redirect_chain[-1][0].startswith(LOGIN)
    assert response.status_code == 200
    assert 'name="password"' in response.text


def test_shoppers_cannot_reach_the_admin(client, confirmed_user):
    confirmed_user("carol@example.com")
    password_login(client, "carol@example.com")
    assert SESSION_KEY in client.session

    response = client.get(ADMIN_PRODUCTS, follow=True)

    assert response.status_code == 403
    assert client.get(ADMIN).status_code == 302


def test_managers_who_are_not_staff_are_left_to_the_admin(client, confirmed_user):
    # Not staff: the admin itself refuses them; no two-factor detour that would suggest otherwise.
    user = confirmed_user("former@example.com")
    user.groups.add(Group.objects.get(name="Store manager"))
    client.force_login(user)

    assert client.get(ADMIN)["Location"].startswith(reverse("admin:login"))


def test_a_superuser_without_totp_is_sent_to_set_it_up(client, confirmed_user):
    root = confirmed_user("root@example.com", is_staff=True, is_superuser=True)
    client.force_login(root)

    assert client.get(ADMIN)["Location"] == ACTIVATE_TOTP
    assert staff_mfa_missing(root)


def test_the_staff_dashboard_is_gated_like_the_admin(client, manager):
    client.force_login(manager)

    assert client.get(reverse("admin-dashboard"))["Location"] == ACTIVATE_TOTP


def test_the_rule_follows_the_setting(client, manager, settings):
    settings.STAFF_MFA_REQUIRED_GROUPS = []
    client.force_login(manager)

    assert client.get(ADMIN).status_code == 200


def test_the_check_costs_one_query(manager, manager_secret, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert not staff_mfa_missing(manager)


def test_totp_secret_set_creates_then_keeps_then_replaces(manager):
    first, second = generate_totp_secret(), generate_totp_secret()

    outcomes = [
        totp_secret_set(user=manager, secret=first),
        totp_secret_set(user=manager, secret=first),
        totp_secret_set(user=manager, secret=second),
    ]

    assert outcomes == ["created", "unchanged", "updated"]
    [stored] = Authenticator.objects.filter(user=manager, type=Authenticator.Type.TOTP)
    assert stored.wrap().validate_code(totp_code(second))
