"""The account links in the site header, for visitors, shoppers and staff."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

HOME = reverse("catalog:home")


def header(client: Client) -> str:
    page = client.get(HOME).text
    return page[page.index('<header class="site-header">') : page.index("</header>")]


def test_visitors_are_offered_sign_in_and_create_account(client):
    nav = header(client)

    assert f'href="{reverse("account_login")}">Sign in</a>' in nav
    assert f'href="{reverse("account_signup")}">Create account</a>' in nav
    assert "Sign out" not in nav
    assert reverse("account_email") not in nav


def test_shoppers_get_their_pass_account_and_a_sign_out_button(alice_client):
    nav = header(alice_client)

    assert f'href="{reverse("carts:pass")}">My cart pass</a>' in nav
    assert f'href="{reverse("account_email")}">Account</a>' in nav
    assert "Sign in" not in nav and "Create account" not in nav
    assert reverse("admin:index") not in nav
    # Sign out is a POST with the CSRF token: a link could be triggered by any other site.
    forms = re.findall(
        r'<form class="nav-form" method="post" action="([^"]+)">(.*?)</form>', nav, re.S
    )
    assert forms
    for action, body in forms:
        assert action == reverse("account_logout")
        assert 'name="csrfmiddlewaretoken"' in body
        assert ">Sign out</button>" in body


def test_staff_also_get_the_store_admin(clerk_client):
    assert f'href="{reverse("admin:index")}">Store admin</a>' in header(clerk_client)


def test_the_sign_out_button_signs_out(alice_client):
    alice_client.post(reverse("account_logout"))

    assert "Sign in" in header(alice_client)


def test_the_search_box_stays(alice_client):
    assert 'role="search"' in header(alice_client)
