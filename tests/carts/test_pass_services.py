"""Issuing, replacing and emailing the cart pass."""

import threading

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from carts.models import CartPass
from carts.selectors import REASON_OK, REASON_REVOKED, cart_pass_get_active, cart_pass_resolve
from carts.services import (
    EMAIL_KIND_CART_PASS,
    ERROR_NO_EMAIL,
    CartPassError,
    cart_pass_email,
    cart_pass_issue,
    cart_pass_replace,
)
from shopcart.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_issue_creates_one_pass_and_then_returns_it(alice):
    first = cart_pass_issue(user=alice)
    second = cart_pass_issue(user=alice)

    assert first == second
    assert first.active is True and first.revoked_at is None
    assert CartPass.objects.filter(user=alice).count() == 1


def test_replace_revokes_the_old_pass_at_once_and_issues_a_new_one(alice):
    old = cart_pass_issue(user=alice)

    new = cart_pass_replace(user=alice)

    old.refresh_from_db()
    assert old.revoked_at is not None and old.active is None
    assert new != old and new.active is True
    assert cart_pass_get_active(user=alice) == new
    assert cart_pass_resolve(old.text).reason == REASON_REVOKED
    assert cart_pass_resolve(new.text).reason == REASON_OK


def test_replace_without_a_pass_just_issues_one(alice):
    assert cart_pass_replace(user=alice) == cart_pass_get_active(user=alice)


def test_replace_leaves_other_shoppers_passes_alone(alice, bob):
    bobs = cart_pass_issue(user=bob)
    cart_pass_issue(user=alice)

    cart_pass_replace(user=alice)

    assert cart_pass_get_active(user=bob) == bobs


def test_database_refuses_a_second_active_pass(alice):
    CartPass.objects.create(user=alice)

    with pytest.raises(IntegrityError), transaction.atomic():
        CartPass.objects.create(user=alice)


def test_database_allows_many_revoked_passes_but_not_a_half_revoked_one(alice):
    for _ in range(3):
        cart_pass_replace(user=alice)

    assert CartPass.objects.filter(user=alice, active=None).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        CartPass.objects.filter(user=alice, active=True).update(active=None)


def test_pass_email_issues_the_pass_and_queues_an_html_email_with_the_qr(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cart_pass = cart_pass_email(user=alice)

    assert cart_pass == cart_pass_get_active(user=alice)
    [message] = mail.outbox
    assert message.to == [alice.email]
    assert "/cart/pass/" in message.body  # the plain-text part points to the website
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    [image] = message.attachments
    assert image.get_content_type() == "image/png"
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert cart_pass.text not in message.body + html  # the pass travels as an image only
    row = OutboundEmail.objects.get()
    assert (row.kind, row.user) == (EMAIL_KIND_CART_PASS, alice)


def test_pass_email_again_sends_the_same_pass(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = cart_pass_email(user=alice)
        second = cart_pass_email(user=alice)

    assert first == second
    assert len(mail.outbox) == 2


def test_pass_email_needs_an_address(alice):
    alice.email = ""
    alice.save()

    with pytest.raises(CartPassError, match=ERROR_NO_EMAIL):
        cart_pass_email(user=alice)
    assert not OutboundEmail.objects.exists()


def run_at_once(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_create_one_pass(alice):
    passes = run_at_once(8, lambda: cart_pass_issue(user=alice))

    active = cart_pass_get_active(user=alice)
    assert len(passes) == 8
    assert active is not None
    assert {cart_pass.pk for cart_pass in passes} == {active.pk}
    assert CartPass.objects.filter(user=alice).count() == 1


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_concurrent_replaces_leave_exactly_one_active_pass(alice):
    cart_pass_issue(user=alice)

    passes = run_at_once(6, lambda: cart_pass_replace(user=alice))

    assert len(passes) == 6
    assert CartPass.objects.active().filter(user=alice).count() == 1
    assert CartPass.objects.filter(user=alice).count() == 7
