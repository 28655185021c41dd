"""Helpers shared by the account tests: signing up, the link in an email."""

import re

from django.urls import reverse


def link_in(message, path_prefix: str) -> str:
    """The one path under ``path_prefix`` that the email ``message`` links to."""
    found = set(re.findall(rf"https?://[^/\s]+({re.escape(path_prefix)}[^\s\"<>]+)", message.body))
    assert len(found) == 1, message.body
    return found.pop()


def sign_up(client, capture, email: str = "dora@example.com"):
    data = {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    with capture(execute=True):
        return client.post(SIGNUP, data)


SIGNUP = reverse("account_signup")


NEW_PASSWORD = "a new and long passphrase"
