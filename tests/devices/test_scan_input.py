"""The scan API's quick check of a well-formed code scan agrees with its serializer.

``devices.api._code_scan_fields`` takes the common request (JSON with a code) without building
the serializer. It must accept only what ``ScanCreateApi.InputSerializer`` accepts and give the
same validated data; anything else goes to the serializer, whose error answers stay the ones
tests/devices/test_scan_api.py checks.
"""

import uuid

import pytest

from devices.api import ScanCreateApi, _code_scan_fields

SCAN_ID = "7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11"
CODE = "4006381333931"
WELL_FORMED = {"scan_id": SCAN_ID, "mode": "add", "qty": 1, "code": CODE, "symbology": "EAN13"}


def body(**changes):
    data = {**WELL_FORMED, **changes}
    return {name: value for name, value in data.items() if value is not ...}


TAKEN = [
    WELL_FORMED,
    body(mode="remove", qty=99),
    body(qty=...),  # the default quantity
    body(symbology=...),
    body(symbology="  "),
    body(code=f"  {CODE}\t", symbology=" QRCODE "),
    body(code="x" * 128),
    body(code=" " + "x" * 128 + " "),  # trimmed before its length is checked
    body(scan_id=SCAN_ID.upper()),
    body(scan_id="{" + SCAN_ID + "}"),
    body(scan_id=SCAN_ID.replace("-", "")),
    body(firmware="1.4.2"),  # unknown fields are ignored, as by the serializer
]
LEFT_TO_THE_SERIALIZER = [
    body(qty=0),
    body(qty=100),
    body(qty=True),
    body(qty=1.0),
    body(qty="2"),
    body(qty=None),
    body(mode="ADD"),
    body(mode=None),
    body(mode=...),
    body(scan_id="not-a-uuid"),
    body(scan_id=12345),
    body(scan_id=...),
    body(code=""),
    body(code="   "),
    body(code=None),
    body(code=4006381333931),
    body(code=["x"]),
    body(code="x" * 129),
    body(code="40063\x0081333931"),
    body(code="4006\ud83d381333931"),
    body(code=...),
    body(symbology="x" * 17),
    body(symbology=None),
    body(symbology="EAN\x0013"),
    body(image="/9j/4AAQ"),
    [WELL_FORMED],
    "4006381333931",
    b"\xff\xd8\xff",
]


@pytest.mark.parametrize("data", TAKEN, ids=range(len(TAKEN)))
def test_a_well_formed_code_scan_gets_the_serializers_data(data):
    serializer = ScanCreateApi.InputSerializer(data=data)

    fields = _code_scan_fields(data)

    assert serializer.is_valid(), serializer.errors
    assert fields == dict(serializer.validated_data)
    assert isinstance(fields["scan_id"], uuid.UUID)


@pytest.mark.parametrize("data", LEFT_TO_THE_SERIALIZER, ids=range(len(LEFT_TO_THE_SERIALIZER)))
def test_anything_else_is_left_to_the_serializer(data):
    assert _code_scan_fields(data) is None
