"""The cart device API (``/api/devices/v1/``), protocol v1 in shared/ARCHITECTURE.md.

Every view derives from ``DeviceApi``: device-key authentication only (a shopper's or staff
session gets 401), a per-device throttle, JSON in and out. Protocol faults are JSON
``{"detail": ...}`` answers: 400 malformed (also JSON nested more than 32 levels deep or holding
a lone surrogate, ``shopcart/json_input.py``), 401 bad key, 405 wrong method, 415 not JSON,
429 with ``Retry-After``.
"""

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DeviceAuthentication, IsDevice
from devices.decoding import ERROR_NOT_AN_IMAGE, DecodeError
from devices.models import Device, ScanEvent
from devices.selectors import pairing_get_active
from devices.services import device_heartbeat_record
from devices.services.scans import (
    DISPLAY_LINE_MAX,
    DISPLAY_PAIRED_IDLE,
    DISPLAY_UNPAIRED,
    MODES,
    ScanConflict,
    ScanInput,
    display_lines,
    scan_process,
)
from devices.throttling import DeviceRateThrottle
from shopcart.json_input import JSON_DEPTH_MAX, BoundedJSONParser
from shopcart.money import QUANTITY_MAX
from shopcart.request_ids import request_id_current

ERROR_HEARTBEAT_INVALID = "The heartbeat is not valid; see errors."

UINT32_MAX = 2**32 - 1
INT32_MAX = 2**31 - 1

EXAMPLE_HEARTBEAT = {
    "firmware_version": "1.4.2",
    "uptime_seconds": 86400,
    "wifi_rssi": -61,
    "free_heap": 141312,
    "queue_depth": 0,
}
EXAMPLE_HEARTBEAT_ANSWER = {
    "server_time": "2026-11-21T11:40:39Z",
    "paired": False,
    "display": list(DISPLAY_UNPAIRED),
}
EXAMPLE_HEARTBEAT_REFUSED = {
    "detail": ERROR_HEARTBEAT_INVALID,
    "errors": {"wifi_rssi": ["Ensure this value is less than or equal to 0."]},
}


@extend_schema_serializer(component_name="DeviceError")
class DeviceErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    request_id = serializers.CharField(help_text="Also in the X-Request-ID header and the logs.")


# A field named "errors" would shadow Serializer.errors, hence an inline serializer.
# "errors" names the wrong fields; a body that is not JSON at all has "detail" only.
DEVICE_REFUSED = inline_serializer(
    name="DeviceRequestRefused",
    fields={
        "detail": serializers.CharField(),
        "request_id": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
    },
)


class DeviceApi(APIView):
    """Base of every device endpoint: who may call, how often, and in which format."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]

    @property
    def device(self) -> Device:
        return cast(Device, self.request.auth)  # IsDevice let the request in

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # Every refusal names its request, so a store's IT can find it in the server's logs.
        data = getattr(response, "data", None)  # a plain HttpResponse has none
        if response.status_code >= 400 and isinstance(data, dict):
            data.setdefault("request_id", request_id_current())
        return super().finalize_response(request, response, *args, **kwargs)


DEVICE_FAULTS = {
    401: OpenApiResponse(DeviceErrorSerializer, description="Missing, malformed or revoked key."),
    415: OpenApiResponse(DeviceErrorSerializer, description="The body is not JSON."),
    429: OpenApiResponse(
        DeviceErrorSerializer, description="Too many requests; wait Retry-After seconds."
    ),
}


class HeartbeatApi(DeviceApi):
    @extend_schema_serializer(component_name="DeviceHeartbeat")
    class InputSerializer(serializers.Serializer):
        firmware_version = serializers.RegexField(r"^[!-~]+$", max_length=32)
        uptime_seconds = serializers.IntegerField(min_value=0, max_value=UINT32_MAX)
        wifi_rssi = serializers.IntegerField(min_value=-127, max_value=0)
        free_heap = serializers.IntegerField(min_value=0, max_value=INT32_MAX)
        queue_depth = serializers.IntegerField(min_value=0, max_value=65535)

    @extend_schema_serializer(component_name="DeviceHeartbeatAnswer")
    class OutputSerializer(serializers.Serializer):
        server_time = serializers.DateTimeField(default_timezone=dt.UTC)
        paired = serializers.BooleanField()
        display = serializers.ListField(
            child=serializers.CharField(max_length=DISPLAY_LINE_MAX), min_length=2, max_length=2
        )

    @extend_schema(
        operation_id="device_heartbeat",
        summary="Report the cart's health; learn the server time and what to display",
        tags=["devices"],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(
                DEVICE_REFUSED,
                description=(
                    f"Not JSON (or nested more than {JSON_DEPTH_MAX} levels, or holding a lone "
                    "surrogate), or a field is missing or out of range."
                ),
            ),
            **DEVICE_FAULTS,
        },
        examples=[
            OpenApiExample("Heartbeat", value=EXAMPLE_HEARTBEAT, request_only=True),
            OpenApiExample("Not paired", value=EXAMPLE_HEARTBEAT_ANSWER, response_only=True),
            OpenApiExample("Out of range", value=EXAMPLE_HEARTBEAT_REFUSED, status_codes=["400"]),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            refused = {"detail": ERROR_HEARTBEAT_INVALID, "errors": serializer.errors}
            return Response(refused, status=status.HTTP_400_BAD_REQUEST)
        device_heartbeat_record(device=self.device, **serializer.validated_data)
        pairing = pairing_get_active(device=self.device)
        display = list(DISPLAY_UNPAIRED)
        if pairing is not None:
            name = pairing.cart.owner.first_name if pairing.cart.owner else ""
            display = display_lines(DISPLAY_PAIRED_IDLE, name=name or "shopper")
        answer = {"server_time": timezone.now(), "paired": pairing is not None, "display": display}
        return Response(self.OutputSerializer(answer).data)


# --- Scans ------------------------------------------------------------------------------------

SCAN_BODY_MAX = 512 * 1024  # bytes; a VGA JPEG from the cart is 20-60 KiB
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG
CODE_MAX = 128  # characters of a pre-decoded code
SYMBOLOGY_MAX = 16

ERROR_SCAN_INVALID = "The scan is not valid; see errors."
ERROR_BODY_TOO_LARGE = "The body is larger than 512 KiB."
ERROR_NOT_JPEG_OR_PNG = "The image is not a JPEG or PNG."
ERROR_BAD_BASE64 = "The image is not valid base64."
ERROR_IMAGE_OR_CODE = "Send either an image or a code, not both and not neither."

EXAMPLE_SCAN_CODE = {
    "scan_id": "7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11",
    "mode": "add",
    "qty": 1,
    "code": "4006381333931",
    "symbology": "EAN13",
}
EXAMPLE_SCAN_ANSWER = {
    "result": "added",
    "product": {"id": 12, "name": "Oat milk 1 l", "price": "1.49"},
    "cart": {"items": 3, "total": "5.97"},
    "display": ["+1 Oat milk 1 l", "Total 5.97"],
    "beep": "ok",
}
# Two different product codes in one photo, the store selling both: nothing is added.
EXAMPLE_SCAN_AMBIGUOUS = {
    "result": "ambiguous",
    "product": None,
    "cart": {"items": 3, "total": "5.97"},
    "display": ["Two codes seen", "Scan one"],
    "beep": "error",
}


class JpegBodyParser(BaseParser):
    """A raw JPEG body (the firmware's cheapest form): the bytes, unparsed."""

    media_type = "image/jpeg"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream.read() if stream is not None else b""


def _image_kind_ok(data: bytes) -> bool:
    return data.startswith(IMAGE_SIGNATURES)


def _fault(detail: str, status_code: int, **extra: Any) -> Response:
    return Response({"detail": detail, **extra}, status=status_code)


class ScanCreateApi(DeviceApi):
    parser_classes = [BoundedJSONParser, JpegBodyParser]

    @extend_schema_serializer(component_name="DeviceScanHeaders")
    class HeaderSerializer(serializers.Serializer):
        """A raw JPEG body's X-Scan-Id, X-Scan-Mode and (optional) X-Scan-Qty headers."""

        scan_id = serializers.UUIDField()
        mode = serializers.ChoiceField(choices=MODES)
        qty = serializers.IntegerField(min_value=1, max_value=QUANTITY_MAX, default=1)

    @extend_schema_serializer(component_name="DeviceScan")
    class InputSerializer(HeaderSerializer):
        image = serializers.CharField(required=False, trim_whitespace=False)
        code = serializers.CharField(required=False, max_length=CODE_MAX)
        symbology = serializers.CharField(
            required=False, allow_blank=True, max_length=SYMBOLOGY_MAX, default=""
        )

        def validate_image(self, value: str) -> bytes:
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise serializers.ValidationError(ERROR_BAD_BASE64) from exc

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("image" in attrs) == ("code" in attrs):
                raise serializers.ValidationError(ERROR_IMAGE_OR_CODE)
            return attrs

    @extend_schema_serializer(component_name="DeviceScanAnswer")
    class OutputSerializer(serializers.Serializer):
        result = serializers.ChoiceField(choices=ScanEvent.Result.choices)
        product = inline_serializer(
            name="DeviceScanProduct",
            fields={
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "price": serializers.DecimalField(max_digits=10, decimal_places=2),
            },
            allow_null=True,
        )
        cart = inline_serializer(
            name="DeviceScanCart",
            fields={
                "items": serializers.IntegerField(),
                "total": serializers.DecimalField(max_digits=10, decimal_places=2),
            },
            allow_null=True,
        )
        display = serializers.ListField(
            child=serializers.CharField(max_length=DISPLAY_LINE_MAX), min_length=2, max_length=2
        )
        beep = serializers.ChoiceField(choices=["ok", "error", "pair"])

    @extend_schema(
        operation_id="device_scan_create",
        summary="Send a scan (photo or pre-decoded code); add, remove, or pair by cart pass",
        tags=["devices"],
        request={"application/json": InputSerializer, "image/jpeg": bytes},
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="A repeated scan_id: the answer."),
            400: OpenApiResponse(
                DEVICE_REFUSED,
                description="Malformed scan (also JSON nested too deep or with a lone surrogate).",
            ),
            409: OpenApiResponse(DeviceErrorSerializer, description="scan_id reused."),
            413: OpenApiResponse(DeviceErrorSerializer, description="Body or image too large."),
            **DEVICE_FAULTS,
        },
        examples=[
            OpenApiExample("Pre-decoded code", value=EXAMPLE_SCAN_CODE, request_only=True),
            OpenApiExample("Added", value=EXAMPLE_SCAN_ANSWER, response_only=True),
            OpenApiExample("Two codes seen", value=EXAMPLE_SCAN_AMBIGUOUS, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        if int(request.META.get("CONTENT_LENGTH") or 0) > SCAN_BODY_MAX:
            return _fault(ERROR_BODY_TOO_LARGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        body = request.body
        if len(body) > SCAN_BODY_MAX:
            return _fault(ERROR_BODY_TOO_LARGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        scan_or_fault = self._scan_input(request, body)
        if isinstance(scan_or_fault, Response):
            return scan_or_fault
        try:
            answer = scan_process(device=self.device, scan=scan_or_fault)
        except ScanConflict as exc:
            return _fault(str(exc), status.HTTP_409_CONFLICT)
        except DecodeError as exc:
            if str(exc) == ERROR_NOT_AN_IMAGE:
                return _fault(ERROR_NOT_JPEG_OR_PNG, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
            return _fault(str(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        return Response(answer.body, status=answer.status)

    def _scan_input(self, request: Request, body: bytes) -> ScanInput | Response:
        raw = isinstance(request.data, bytes)
        if raw:
            headers = request.headers
            fields = {"scan_id": headers.get("X-Scan-Id"), "mode": headers.get("X-Scan-Mode")}
            if "X-Scan-Qty" in headers:
                fields["qty"] = headers["X-Scan-Qty"]
            serializer: serializers.Serializer = self.HeaderSerializer(data=fields)
        else:
            serializer = self.InputSerializer(data=request.data)
        if not serializer.is_valid():
            return _fault(ERROR_SCAN_INVALID, status.HTTP_400_BAD_REQUEST, errors=serializer.errors)
        data = serializer.validated_data
        image: bytes | None = cast(bytes, request.data) if raw else data.get("image")
        if image is not None and not _image_kind_ok(image):
            return _fault(ERROR_NOT_JPEG_OR_PNG, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        # A raw body's mode and quantity travel in headers: they count as part of the body.
        signed = f"{data['mode']}:{data['qty']}:".encode() + body if raw else body
        return ScanInput(
            scan_id=data["scan_id"],
            body_hash=hashlib.sha256(signed).hexdigest(),
            mode=data["mode"],
            quantity=data["qty"],
            image=image,
            code=data.get("code"),
            symbology=data.get("symbology", ""),
        )
