"""The cart device API (``/api/devices/v1/``), protocol v1 in shared/ARCHITECTURE.md.

Every view derives from ``DeviceApi``: device-key authentication only (a shopper's or staff
session gets 401), a per-device throttle, JSON in and out. Protocol faults are JSON
``{"detail": ..., "request_id": ...}`` answers: 400 malformed (also JSON nested more than 32
levels deep or holding a lone surrogate, ``shopcart/core/json_input.py``), 401 bad key, 405 wrong
method, 415 not JSON, 429 with ``Retry-After``.

A lean path. The views are DRF ``APIView``s for their description only: the OpenAPI schema
reads their authentication, parsers and ``extend_schema`` from them as from any other. A
request goes through ``DeviceApi.dispatch``, a plain Django dispatch that does what DRF did
for these views, in this order, with the same answers: the device key (remembered per
process, ``devices.authentication``), the throttle (``devices.throttling``; its counters read in
the key check's round trip to the shared cache), the method, the body (``json_loads``'s
limits, or a raw JPEG), then the view's ``post``. A well-formed scan is checked field by
field here (``_scan_fields``); anything else is handed to the documented input serializer,
which words the refusal exactly as before. No DRF request, negotiation or renderer runs.

Size: kept in one module: the device protocol's endpoints with their documented schema and
examples, in the one place the firmware's contract tests are read against.
"""

import base64
import binascii
import datetime as dt
import hashlib
import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.json import strict_constant
from rest_framework.views import APIView

from devices.authentication import (
    KEYWORD,
    DeviceAuthentication,
    DeviceAuthError,
    device_authenticated,
)
from devices.decoding import NotAnImage, TooManyPixels
from devices.models import Device, ScanEvent
from devices.selectors import (
    firmware_release_for_device,
    firmware_update_for,
    pairing_get_active,
)
from devices.services import EnrolmentRefused, device_enrol, device_heartbeat_record
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
from devices.throttling import (
    device_throttle_wait,
    device_throttle_windows,
    device_throttled_detail,
    enrol_throttle_wait,
)
from shopcart.core.json_input import ERROR_CHARSET, JSON_DEPTH_MAX, BoundedJSONParser, json_loads
from shopcart.core.money import QUANTITY_MAX
from shopcart.core.request_ids import request_id_current

ERROR_HEARTBEAT_INVALID = "The heartbeat is not valid; see errors."
ERROR_METHOD = 'Method "{method}" not allowed.'
ERROR_MEDIA_TYPE = 'Unsupported media type "{media_type}" in request.'
ERROR_JSON = "JSON parse error - {error}"
MEDIA_JSON = "application/json"
MEDIA_JPEG = "image/jpeg"
MEDIA_BINARY = "application/octet-stream"
ERROR_NO_SUCH_RELEASE = "No such firmware release for this cart."

UINT32_MAX = 2**32 - 1
INT32_MAX = 2**31 - 1

EXAMPLE_HEARTBEAT = {
    "firmware_version": "1.4.2",
    "uptime_seconds": 86400,
    "wifi_rssi": -61,
    "free_heap": 141312,
    "queue_depth": 0,
    "reset_reason": "task_watchdog",
    "free_psram": 3407872,
    "failed_captures": 0,
    "camera_ok": True,
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


class DeviceRefused(Exception):
    """A protocol fault: answered ``{"detail": ..., "request_id": ...}`` with ``status``."""

    def __init__(self, detail: str, status: int, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.extra = status, extra


def json_answer(body: Any, status: int = 200) -> HttpResponse:
    """``body`` as DRF's ``JSONRenderer`` wrote it: compact UTF-8, ``application/json``."""
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return HttpResponse(content.encode(), status=status, content_type=MEDIA_JSON)


def refusal(detail: str, status: int, **extra: Any) -> HttpResponse:
    # Every refusal names its request, so a store's IT can find it in the server's logs.
    return json_answer({"detail": detail, **extra, "request_id": request_id_current()}, status)


class DeviceApi(APIView):
    """Base of every device endpoint: who may call, how often, and in which format."""

    # (The docstring above is the endpoints' description in the schema.) The class attributes
    # describe the endpoint to the OpenAPI schema; ``dispatch`` does the work (module
    # docstring). Subclasses implement ``post(request)``, returning a response or raising
    # ``DeviceRefused``; ``self.device`` is the authenticated device.
    authentication_classes = [DeviceAuthentication]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]
    media_types: tuple[str, ...] = (MEDIA_JSON,)  # the bodies ``body`` accepts
    method = "POST"  # the one method the endpoint answers; others get 405
    device: Device

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        now = time.time()
        try:
            self.device, counts = device_authenticated(
                request, shared_keys=lambda pk: device_throttle_windows(pk, now).keys()
            )
        except DeviceAuthError as exc:
            answer = refusal(str(exc), status.HTTP_401_UNAUTHORIZED)
            answer["WWW-Authenticate"] = KEYWORD
            return answer
        wait = device_throttle_wait(device_throttle_windows(self.device.pk, now), counts)
        if wait is not None:
            answer = refusal(device_throttled_detail(wait), status.HTTP_429_TOO_MANY_REQUESTS)
            answer["Retry-After"] = str(wait)
            return answer
        if request.method != self.method:
            answer = refusal(
                ERROR_METHOD.format(method=request.method), status.HTTP_405_METHOD_NOT_ALLOWED
            )
            answer["Allow"] = self.method
            return answer
        try:
            if self.method == "GET":  # (a GET endpoint defines get(); the schema lists it alone)
                handler: Any = getattr(self, "get")  # noqa: B009
                return handler(request, **kwargs)
            return self.post(request)
        except DeviceRefused as exc:
            return refusal(str(exc), exc.status, **exc.extra)

    def post(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def body(self, request: HttpRequest, raw: bytes) -> Any:
        """The body ``raw`` of ``request``: parsed JSON, or the bytes of a raw JPEG where the
        view takes one; ``{}`` when empty. Raises ``DeviceRefused`` (400, 415) as DRF's
        parsers did."""
        if not raw:
            return {}
        media_type = request.content_type
        if media_type not in self.media_types:
            full = request.META.get("CONTENT_TYPE", "")
            raise DeviceRefused(
                ERROR_MEDIA_TYPE.format(media_type=full), status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
            )
        if media_type == MEDIA_JPEG:
            return raw
        encoding = request.encoding or settings.DEFAULT_CHARSET
        try:
            return json_loads(raw.decode(encoding), parse_constant=strict_constant)
        except LookupError:
            detail = ERROR_CHARSET.format(charset=encoding)
            raise DeviceRefused(detail, status.HTTP_400_BAD_REQUEST) from None
        except ValueError as exc:
            raise DeviceRefused(ERROR_JSON.format(error=exc), status.HTTP_400_BAD_REQUEST) from None


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
        # Since firmware 1.1.0; an older cart leaves them out.
        reset_reason = serializers.ChoiceField(choices=Device.ResetReason.choices, required=False)
        free_psram = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
        failed_captures = serializers.IntegerField(min_value=0, max_value=INT32_MAX, required=False)
        camera_ok = serializers.BooleanField(required=False)

    @extend_schema_serializer(component_name="DeviceUpdateOffer")
    class UpdateSerializer(serializers.Serializer):
        version = serializers.CharField()
        url = serializers.CharField(help_text="Where to download it, with this device's key.")
        size = serializers.IntegerField()
        sha256 = serializers.CharField()
        signature = serializers.CharField(help_text="Ed25519 over the SHA-256 digest, base64.")

    @extend_schema_serializer(component_name="DeviceHeartbeatAnswer")
    class OutputSerializer(serializers.Serializer):
        server_time = serializers.DateTimeField(default_timezone=dt.UTC)
        paired = serializers.BooleanField()
        display = serializers.ListField(
            child=serializers.CharField(max_length=DISPLAY_LINE_MAX), min_length=2, max_length=2
        )
        # (A field of this name hides Serializer.update, which an output serializer never uses.)
        update = serializers.SerializerMethodField(  # type: ignore[assignment]
            help_text="A newer release meant for this cart, or null. The cart installs it only "
            "while idle and not paired, after checking its SHA-256 and signature."
        )

        @extend_schema_field(
            inline_serializer(
                name="DeviceUpdateOfferOrNull",
                fields={
                    "version": serializers.CharField(),
                    "url": serializers.CharField(),
                    "size": serializers.IntegerField(),
                    "sha256": serializers.CharField(),
                    "signature": serializers.CharField(),
                },
                allow_null=True,
            )
        )
        def get_update(self, answer: dict[str, Any]) -> dict[str, Any] | None:
            release = answer.get("update")
            if release is None:
                return None
            url = reverse("devices-api:firmware", kwargs={"version": release.version})
            return {
                "version": release.version,
                "url": url,
                "size": release.size,
                "sha256": release.sha256,
                "signature": release.signature,
            }

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
    def post(self, request: HttpRequest) -> HttpResponse:
        serializer = self.InputSerializer(data=self.body(request, request.body))
        if not serializer.is_valid():
            raise DeviceRefused(
                ERROR_HEARTBEAT_INVALID, status.HTTP_400_BAD_REQUEST, errors=serializer.errors
            )
        device_heartbeat_record(device=self.device, **serializer.validated_data)
        pairing = pairing_get_active(device=self.device)
        display = list(DISPLAY_UNPAIRED)
        if pairing is not None:
            name = pairing.cart.owner.first_name if pairing.cart.owner else ""
            display = display_lines(DISPLAY_PAIRED_IDLE, name=name or "shopper")
        update = firmware_update_for(
            device=self.device, running_version=serializer.validated_data["firmware_version"]
        )
        answer = {
            "server_time": timezone.now(),
            "paired": pairing is not None,
            "display": display,
            "update": update,
        }
        return json_answer(self.OutputSerializer(answer).data)


class FirmwareDownloadApi(DeviceApi):
    """The binary of a release offered to this cart (``update.url`` in the heartbeat answer).

    Only a release meant for the calling device is served; any other version is 404, as is one
    that does not exist. The cart checks the SHA-256 and the signature before installing it.
    """

    method = "GET"
    http_method_names = ["get"]  # the schema documents GET only, not the base class's POST

    @extend_schema(
        operation_id="device_firmware_download",
        summary="Download a firmware release offered to this cart",
        tags=["devices"],
        request=None,
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The binary."),
            404: OpenApiResponse(DeviceErrorSerializer, description="Not offered to this cart."),
            **DEVICE_FAULTS,
        },
    )
    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
        release = firmware_release_for_device(device=self.device, version=kwargs["version"])
        if release is None:
            raise DeviceRefused(ERROR_NO_SUCH_RELEASE, status.HTTP_404_NOT_FOUND)
        response = FileResponse(release.binary.open("rb"), content_type=MEDIA_BINARY)
        response["X-Firmware-SHA256"] = release.sha256
        return response


# --- Enrolment ----------------------------------------------------------------------------------

ERROR_ENROL_INVALID = "The enrolment request is not valid; see errors."
EXAMPLE_ENROL = {
    "token": "sce_Zm9yIGV4YW1wbGUgb25seSwgbm90IGEgdG9rZW4",
    "firmware_version": "1.1.0",
}
EXAMPLE_ENROL_ANSWER = {
    "device_key": "scd_1a2b3c4d_...",
    "device_name": "Cart 12",
    "server_time": "2026-11-21T11:40:39Z",
}


class EnrolApi(DeviceApi):
    """A cart with a provisioning QR's enrolment code gets its device key, once.

    No device key here (the cart has none yet): the single-use, short-lived code is the
    credential. It is 192 random bits, so trying codes gets nowhere in its ten minutes.
    """

    authentication_classes = []

    @extend_schema_serializer(component_name="DeviceEnrolment")
    class InputSerializer(serializers.Serializer):
        token = serializers.RegexField(r"^sce_[A-Za-z0-9_-]{16,64}$")
        firmware_version = serializers.RegexField(r"^[!-~]+$", max_length=32, required=False)

    @extend_schema_serializer(component_name="DeviceEnrolmentAnswer")
    class OutputSerializer(serializers.Serializer):
        device_key = serializers.CharField(help_text="Shown this once; the server keeps a hash.")
        device_name = serializers.CharField()
        server_time = serializers.DateTimeField(default_timezone=dt.UTC)

    @extend_schema(
        operation_id="device_enrol",
        summary="Exchange a provisioning QR's enrolment code for the cart's device key",
        tags=["devices"],
        auth=[],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(DEVICE_REFUSED, description="Not JSON, or no valid token."),
            403: OpenApiResponse(
                DeviceErrorSerializer,
                description="The code is unknown, used, expired, or its device is revoked.",
            ),
            415: DEVICE_FAULTS[415],
            429: DEVICE_FAULTS[429],
        },
        examples=[
            OpenApiExample("Enrolment", value=EXAMPLE_ENROL, request_only=True),
            OpenApiExample("Enrolled", value=EXAMPLE_ENROL_ANSWER, response_only=True),
        ],
    )
    def post(self, request: HttpRequest) -> HttpResponse:
        serializer = self.InputSerializer(data=self.body(request, request.body))
        if not serializer.is_valid():
            raise DeviceRefused(
                ERROR_ENROL_INVALID, status.HTTP_400_BAD_REQUEST, errors=serializer.errors
            )
        try:
            device, raw_key = device_enrol(token=serializer.validated_data["token"])
        except EnrolmentRefused as exc:
            raise DeviceRefused(str(exc), status.HTTP_403_FORBIDDEN) from None
        answer = {"device_key": raw_key, "device_name": device.name, "server_time": timezone.now()}
        return json_answer(self.OutputSerializer(answer).data, status.HTTP_201_CREATED)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            answer = refusal(
                ERROR_METHOD.format(method=request.method), status.HTTP_405_METHOD_NOT_ALLOWED
            )
            answer["Allow"] = "POST"
            return answer
        wait = enrol_throttle_wait()
        if wait is not None:
            answer = refusal(device_throttled_detail(wait), status.HTTP_429_TOO_MANY_REQUESTS)
            answer["Retry-After"] = str(wait)
            return answer
        try:
            return self.post(request)
        except DeviceRefused as exc:
            return refusal(str(exc), exc.status, **exc.extra)


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
    """A raw JPEG body (the firmware's cheapest form): the bytes, unparsed. For the schema:
    ``DeviceApi.body`` reads the body itself."""

    media_type = MEDIA_JPEG

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return stream.read() if stream is not None else b""


def _image_kind_ok(data: bytes) -> bool:
    return data.startswith(IMAGE_SIGNATURES)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ScanCreateApi(DeviceApi):
    parser_classes = [BoundedJSONParser, JpegBodyParser]
    media_types = (MEDIA_JSON, MEDIA_JPEG)

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
    def post(self, request: HttpRequest) -> HttpResponse:
        if _content_length(request) > SCAN_BODY_MAX:
            raise DeviceRefused(ERROR_BODY_TOO_LARGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        raw = request.body
        if len(raw) > SCAN_BODY_MAX:
            raise DeviceRefused(ERROR_BODY_TOO_LARGE, status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        scan = self._scan_input(request, raw, self.body(request, raw))
        try:
            answer = scan_process(device=self.device, scan=scan)
        except ScanConflict as exc:
            raise DeviceRefused(str(exc), status.HTTP_409_CONFLICT) from None
        except NotAnImage:
            raise DeviceRefused(
                ERROR_NOT_JPEG_OR_PNG, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
            ) from None
        except TooManyPixels as exc:
            raise DeviceRefused(str(exc), status.HTTP_413_REQUEST_ENTITY_TOO_LARGE) from None
        return json_answer(answer.body, answer.status)

    def _scan_input(self, request: HttpRequest, raw: bytes, data: Any) -> ScanInput:
        """The scan ``request`` sends, its fields checked; raises ``DeviceRefused``."""
        is_raw = isinstance(data, bytes)
        fields = _header_fields(request) if is_raw else data
        valid = _scan_fields(fields, raw=is_raw)
        if valid is None:  # not plainly well-formed: the serializer judges, and says why
            serializer = (self.HeaderSerializer if is_raw else self.InputSerializer)(data=fields)
            if not serializer.is_valid():
                errors = serializer.errors
                raise DeviceRefused(ERROR_SCAN_INVALID, status.HTTP_400_BAD_REQUEST, errors=errors)
            valid = dict(serializer.validated_data)
        image: bytes | None = data if is_raw else valid.get("image")
        if image is not None and not _image_kind_ok(image):
            raise DeviceRefused(ERROR_NOT_JPEG_OR_PNG, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
        # A raw body's mode and quantity travel in headers: they count as part of the body.
        signed = f"{valid['mode']}:{valid['qty']}:".encode() + raw if is_raw else raw
        return ScanInput(
            scan_id=valid["scan_id"],
            body_hash=hashlib.sha256(signed).hexdigest(),
            mode=valid["mode"],
            quantity=valid["qty"],
            image=image,
            code=valid.get("code"),
            symbology=valid.get("symbology", ""),
        )


def _header_fields(request: HttpRequest) -> dict[str, Any]:
    """A raw JPEG body's scan fields, from its X-Scan-* headers."""
    headers = request.headers
    fields = {"scan_id": headers.get("X-Scan-Id"), "mode": headers.get("X-Scan-Mode")}
    if "X-Scan-Qty" in headers:
        fields["qty"] = headers["X-Scan-Qty"]
    return fields


def _scan_fields(fields: Any, *, raw: bool) -> dict[str, Any] | None:
    """The validated fields of a plainly well-formed scan, as ``ScanCreateApi``'s serializers
    would give them (``HeaderSerializer`` when ``raw``, else ``InputSerializer``); None for
    anything else, even what they might accept (a quantity as a string in JSON, a code with
    spaces to trim): they then judge it, and word any refusal."""
    if not isinstance(fields, dict):
        return None
    scan_id, mode, qty = fields.get("scan_id"), fields.get("mode"), fields.get("qty", 1)
    if raw and isinstance(qty, str) and qty.isascii() and qty.isdigit() and len(qty) <= 2:
        qty = int(qty)
    if not isinstance(scan_id, str) or mode not in MODES or type(qty) is not int:
        return None
    if not 1 <= qty <= QUANTITY_MAX:
        return None
    try:
        valid = {"scan_id": uuid.UUID(hex=scan_id), "mode": mode, "qty": qty}
    except ValueError:
        return None
    if raw:
        return valid
    return _scan_body_fields(fields, valid)


def _scan_body_fields(fields: dict[str, Any], valid: dict[str, Any]) -> dict[str, Any] | None:
    """``_scan_fields`` for the image or code of a JSON scan."""
    image, code = fields.get("image"), fields.get("code")
    symbology = fields.get("symbology", "")
    if ("image" in fields) == ("code" in fields) or not _plain_text(symbology, SYMBOLOGY_MAX):
        return None
    if code is not None:
        if not code or not _plain_text(code, CODE_MAX):
            return None
        return {**valid, "code": code, "symbology": symbology}
    if not isinstance(image, str) or not image or "\x00" in image:
        return None
    try:
        return {**valid, "image": base64.b64decode(image, validate=True), "symbology": symbology}
    except (binascii.Error, ValueError):
        return None


def _plain_text(value: Any, max_length: int) -> bool:
    """A string DRF's ``CharField`` takes as it is: nothing to trim, no NUL, not too long."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and value == value.strip()
        and "\x00" not in value
    )
