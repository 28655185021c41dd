"""Accounts that feel finished, on a phone (issue 19, item 6), in a real Chromium at 375 px: a
sign-in form left open in another tab, confirming an email, the store's error pages."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.support import NO_HORIZONTAL_SCROLL
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's
NEW_PASSWORD = "a long passphrase for dora"
LOGIN = reverse("account_login")
SIGN_OUT = f"form[action='{reverse('account_logout')}']"


def fill_sign_in(page, email: str) -> None:
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_sign_in_form_left_open_in_another_tab_explains_and_retries(live_server, new_page):
    carol = UserFactory(username="carol@example.com", email="carol@example.com")
    EmailAddress.objects.create(user=carol, email=carol.email, verified=True, primary=True)
    first = new_page(**PHONE)
    second = first.context.new_page()
    for tab in (first, second):
        tab.goto(live_server.url + LOGIN)

    fill_sign_in(first, carol.email)
    expect(first).to_have_url(live_server.url + reverse("catalog:home"))
    fill_sign_in(second, carol.email)

    expect(second.get_by_role("heading", level=1)).to_have_text("Please try that again")
    expect(second.locator("body")).not_to_contain_text("CSRF verification failed")
    assert second.evaluate(NO_HORIZONTAL_SCROLL)
    second.get_by_role("link", name="Open the page again").click()
    # Signed in by the other tab: the sign-in page sends on to the shop.
    expect(second).to_have_url(live_server.url + reverse("catalog:home"))
    expect(second.locator(SIGN_OUT).first).to_be_attached()


def test_confirming_the_email_on_the_phone_that_signed_up_signs_in(live_server, new_page):
    page = new_page(**PHONE)
    page.goto(live_server.url + reverse("account_signup"))
    page.locator("input[name=email]").fill("dora@example.com")
    page.locator("input[name=password1]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    [message] = [m for m in mail.outbox if "/accounts/confirm-email/" in m.body]
    assert message.body.startswith("Hello there,")
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body)
    assert link, message.body
    page.goto(link[0])
    page.get_by_role("button", name="Confirm my email address").click()

    expect(page).to_have_url(live_server.url + reverse("catalog:home"))
    expect(page.locator(SIGN_OUT).first).to_be_attached()
    dora = get_user_model().objects.get(email="dora@example.com")
    assert EmailAddress.objects.get(user=dora).verified
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_the_stores_error_pages_fit_a_phone(live_server, new_page):
    page = new_page(**PHONE)

    page.goto(live_server.url + "/no-such-page/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator(".brand")).to_be_visible()
    assert page.evaluate(NO_HORIZONTAL_SCROLL)


def test_sign_up_errors_show_beside_their_field_focused_on_screen(live_server, new_page):
    page = new_page(width=PHONE["width"], height=560)  # a short phone: the form is below the fold
    page.goto(live_server.url + reverse("account_signup"))
    page.locator("input[name=email]").fill("erin@example.com")
    page.locator("input[name=password1]").fill("short")
    page.locator("input[name=password2]").fill("short")
    page.locator("form.form--signup button[type=submit], form button[type=submit]").last.click()

    password = page.locator("input[name=password1]")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    expect(password).to_be_in_viewport()
    error = page.locator("#id_password1_error")
    expect(error).to_contain_text("too short")
    expect(error).to_be_in_viewport()
    expect(page.locator("input[name=email]")).to_have_value("erin@example.com")  # kept
    assert page.evaluate(NO_HORIZONTAL_SCROLL)
