"""Unknown codes: a valid GTIN the catalog lacks answers ``unknown_product`` and is collected
for staff, who can start a product from it in the admin; a code a product has left the list."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carts.models import CartLine
from carts.services import cart_pass_issue
from devices.admin import MESSAGE_CHOOSE_ONE_CODE
from devices.models import ScanEvent, UnknownCode
from devices.selectors import unknown_codes_count
from devices.services import device_pair
from devices.services.scans import DISPLAY_UNKNOWN_PRODUCT, unknown_code_record
from tests.devices.support import EAN13, EAN13_GTIN, scan_code
from tests.factories import BarcodeFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:devices_unknowncode_changelist")
OTHER_GTIN = "00000096385074"


@pytest.fixture
def paired(device, alice):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice))


def test_a_valid_code_without_a_product_answers_unknown_product_and_is_collected(
    device_client, paired
):
    answer = scan_code(device_client, EAN13)

    assert answer["result"] == "unknown_product"
    assert answer["beep"] == "error"
    assert answer["product"] is None
    assert answer["display"] == [DISPLAY_UNKNOWN_PRODUCT[0], EAN13_GTIN]
    unknown = UnknownCode.objects.get()
    assert (unknown.gtin, unknown.count) == (EAN13_GTIN, 1)
    assert ScanEvent.objects.get().result == "unknown_product"
    assert not CartLine.objects.exists()


def test_each_scan_of_an_unknown_code_counts_and_moves_last_seen(device_client, paired):
    scan_code(device_client, EAN13)
    first = UnknownCode.objects.get()
    UnknownCode.objects.update(last_seen_at=first.last_seen_at - timedelta(hours=1))

    scan_code(device_client, EAN13)

    again = UnknownCode.objects.get()
    assert again.count == 2
    assert again.first_seen_at == first.first_seen_at
    assert again.last_seen_at > first.last_seen_at - timedelta(minutes=1)


def test_the_same_code_in_another_form_counts_as_the_same_gtin(device_client, paired):
    scan_code(device_client, EAN13)
    scan_code(device_client, EAN13_GTIN, symbology="")

    assert UnknownCode.objects.get().count == 2


def test_an_unpaired_device_collects_nothing(device_client):
    assert scan_code(device_client, EAN13)["result"] == "not_paired"
    assert not UnknownCode.objects.exists()


def test_staff_see_unknown_codes_with_count_and_dates(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    unknown_code_record(gtin=EAN13_GTIN)

    response = staff_client.get(LIST_URL)

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.gtin, row.count) == (EAN13_GTIN, 2)
    assert row.first_seen_at <= row.last_seen_at <= timezone.now()


def _listed(client) -> dict[str, int]:
    response = client.get(LIST_URL)
    assert response.status_code == 200
    return {code.gtin: code.count for code in response.context["cl"].result_list}


def test_a_code_leaves_the_list_once_a_product_has_its_barcode(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    unknown_code_record(gtin=OTHER_GTIN)

    BarcodeFactory(gtin=EAN13_GTIN)

    assert _listed(staff_client) == {OTHER_GTIN: 1}
    assert unknown_codes_count() == 1  # the dashboard's figure agrees
    assert UnknownCode.objects.filter(gtin=EAN13_GTIN).exists()  # kept: its count is history


def test_a_code_comes_back_with_its_count_when_its_barcode_is_removed(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    unknown_code_record(gtin=EAN13_GTIN)
    barcode = BarcodeFactory(gtin=EAN13_GTIN)
    assert _listed(staff_client) == {}

    barcode.delete()

    assert _listed(staff_client) == {EAN13_GTIN: 2}
    assert unknown_codes_count() == 1


def test_the_list_costs_the_same_queries_for_many_codes(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    BarcodeFactory(gtin=EAN13_GTIN)
    staff_client.get(LIST_URL)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        _listed(staff_client)
    for _ in range(10):
        unknown_code_record(gtin=BarcodeFactory().gtin)
        unknown_code_record(gtin=BarcodeFactory.build().gtin)

    with CaptureQueriesContext(connection) as many:
        assert len(_listed(staff_client)) == 10

    assert len(many) == len(one)


def test_create_product_from_a_code_opens_the_product_form_with_the_barcode(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    data = {"action": "create_product", ACTION_CHECKBOX_NAME: [UnknownCode.objects.get().pk]}

    response = staff_client.post(LIST_URL, data)

    add_url = reverse("admin:catalog_product_add")
    assert response.status_code == 302
    assert response.url == f"{add_url}?barcode={EAN13_GTIN}"
    form = staff_client.get(response.url)
    barcodes = next(f for f in form.context["inline_admin_formsets"])
    assert barcodes.formset.forms[0].initial == {"gtin": EAN13_GTIN}
    assert f'value="{EAN13_GTIN}"' in form.content.decode()


@pytest.fixture
def code_watcher_client(db):
    """Staff who may look at unknown codes but not add products."""
    user = UserFactory(username="watcher@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_unknowncode"))
    client = Client()
    client.force_login(user)
    return client


def _code_page(client, gtin: str) -> str:
    code = UnknownCode.objects.get(gtin=gtin)
    response = client.get(reverse("admin:devices_unknowncode_change", args=[code.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_codes_page_has_a_create_product_button_for_staff_who_may_add_products(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)

    page = _code_page(staff_client, EAN13_GTIN)

    add_url = reverse("admin:catalog_product_add")
    assert f'href="{add_url}?barcode={EAN13_GTIN}" class="addlink" id="create-product"' in page


def test_a_codes_page_has_no_create_product_button_for_staff_who_may_not(code_watcher_client):
    unknown_code_record(gtin=EAN13_GTIN)

    page = _code_page(code_watcher_client, EAN13_GTIN)

    assert EAN13_GTIN in page
    assert 'id="create-product"' not in page
    assert reverse("admin:catalog_product_add") not in page


def test_create_product_wants_exactly_one_code(staff_client):
    unknown_code_record(gtin=EAN13_GTIN)
    unknown_code_record(gtin=OTHER_GTIN)
    data = {
        "action": "create_product",
        ACTION_CHECKBOX_NAME: [c.pk for c in UnknownCode.objects.all()],
    }

    response = staff_client.post(LIST_URL, data, follow=True)

    assert MESSAGE_CHOOSE_ONE_CODE in [str(m) for m in response.context["messages"]]


def test_shoppers_cannot_see_unknown_codes(alice_client):
    assert alice_client.get(LIST_URL).status_code == 302
