"""The outbox in the admin: managers read it; nobody edits it; bodies and images stay hidden."""

import pytest
from django.urls import reverse

from shopcart.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbound(alice):
    return OutboundEmail.objects.create(
        kind="cart_pass",
        recipient=alice.email,
        user=alice,
        from_email="shop@example.com",
        subject="Your cart pass",
        text_body="SECRET-TEXT-BODY",
        html_body="<p>SECRET-HTML-BODY</p>",
        inline_images=[{"cid": "x@y", "mimetype": "image/png", "base64": "SECRETBASE64"}],
        attempts=2,
        last_error="SMTPServerDisconnected",
    )


def test_manager_sees_the_outbox_list_with_status_and_attempts(staff_client, outbound):
    response = staff_client.get(reverse("admin:shopcart_outboundemail_changelist"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "cart_pass" in page
    assert "retrying" in page
    assert "SECRET" not in page


def test_manager_finds_an_email_by_exact_address(staff_client, outbound, alice):
    url = reverse("admin:shopcart_outboundemail_changelist")

    assert staff_client.get(url, {"q": alice.email}).context["cl"].result_count == 1
    assert staff_client.get(url, {"q": "alice"}).context["cl"].result_count == 0


def test_detail_page_is_read_only_and_hides_bodies_and_images(staff_client, outbound):
    url = reverse("admin:shopcart_outboundemail_change", args=[outbound.pk])

    response = staff_client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert "SMTPServerDisconnected" in page
    assert "SECRET" not in page
    assert 'name="_save"' not in page
    assert staff_client.post(url, {"subject": "changed"}).status_code == 403
    assert OutboundEmail.objects.get().subject == "Your cart pass"


def test_nobody_adds_or_deletes_outbox_rows(staff_client, outbound):
    add = reverse("admin:shopcart_outboundemail_add")
    delete = reverse("admin:shopcart_outboundemail_delete", args=[outbound.pk])

    assert staff_client.get(add).status_code == 403
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert OutboundEmail.objects.exists()


def test_clerk_cannot_see_the_outbox(clerk_client, outbound):
    response = clerk_client.get(reverse("admin:shopcart_outboundemail_changelist"))

    assert response.status_code == 403


def test_migrations_give_managers_the_outbox_and_cart_pass_permissions(staff):
    assert staff.has_perm("shopcart.view_outboundemail")
    assert not staff.has_perm("shopcart.change_outboundemail")
    assert staff.has_perm("carts.view_cartpass")
    assert staff.has_perm("carts.change_cartpass")
