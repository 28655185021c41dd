"""Cart passes in the admin: listed without their token; managers can replace them."""

import pytest
from django.urls import reverse

from carts.admin import MESSAGE_REPLACED
from carts.models import CartPass
from carts.selectors import REASON_REVOKED, cart_pass_get_active, cart_pass_resolve
from carts.services import cart_pass_issue

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:carts_cartpass_changelist")


def test_manager_sees_passes_but_never_their_token(staff_client, alice):
    cart_pass = cart_pass_issue(user=alice)

    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert alice.email in page
    assert cart_pass.token not in page
    detail = staff_client.get(reverse("admin:carts_cartpass_change", args=[cart_pass.pk]))
    assert cart_pass.token not in detail.content.decode()


def test_manager_replaces_a_shoppers_pass(staff_client, alice, bob):
    alices = cart_pass_issue(user=alice)
    bobs = cart_pass_issue(user=bob)

    response = staff_client.post(
        CHANGELIST, {"action": "replace_passes", "_selected_action": [alices.pk]}, follow=True
    )

    assert MESSAGE_REPLACED.format(count=1) in response.content.decode()
    assert cart_pass_resolve(alices.text).reason == REASON_REVOKED
    assert cart_pass_get_active(user=alice) not in (None, alices)
    assert cart_pass_get_active(user=bob) == bobs


def test_clerk_cannot_see_cart_passes(clerk_client, alice):
    cart_pass_issue(user=alice)

    assert clerk_client.get(CHANGELIST).status_code == 403


def test_nobody_adds_or_deletes_passes_in_the_admin(staff_client, alice):
    cart_pass = cart_pass_issue(user=alice)

    assert staff_client.get(reverse("admin:carts_cartpass_add")).status_code == 403
    delete = reverse("admin:carts_cartpass_delete", args=[cart_pass.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert CartPass.objects.filter(pk=cart_pass.pk).exists()
