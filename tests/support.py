"""Helpers shared across the test folders."""

import subprocess

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.test import Client, RequestFactory


def second_factor_given(client: Client, user) -> Client:
    """Record in ``client``'s session the code step that ``force_login`` skips, as allauth
    records it when a code is typed at sign-in; staff pages then let a manager in."""
    request = RequestFactory().get("/")
    request.session = client.session
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    record_authentication(request, user, "mfa", id=totp.pk, type=totp.type)
    request.session.save()
    return client


def process_stop(process: subprocess.Popen) -> None:
    """Stop a server a test started: terminate, then kill if it has not ended in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
