"""The cart device API (``/api/devices/v1/``), protocol v1 in shared/ARCHITECTURE.md.

Every view derives from ``DeviceApi``: device-key authentication only (a shopper's or staff
session gets 401), a per-device throttle, JSON in and out. Protocol faults are JSON
``{"detail": ...}`` answers: 400 malformed, 401 bad key, 405 wrong method, 415 not JSON,
429 with ``Retry-After``.
"""

import datetime as dt
from typing import cast

from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.authentication import DeviceAuthentication, IsDevice
from devices.models import Device
from devices.services import device_heartbeat_record
from devices.throttling import DeviceRateThrottle

DISPLAY_LINE_MAX = 16  # characters per line on the cart's OLED
DISPLAY_UNPAIRED = ("smartcart", "Show cart pass")

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


# A field named "errors" would shadow Serializer.errors, hence an inline serializer.
HEARTBEAT_REFUSED = inline_serializer(
    name="DeviceHeartbeatRefused",
    fields={
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


class DeviceApi(APIView):
    """Base of every device endpoint: who may call, how often, and in which format."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes = [DeviceRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    @property
    def device(self) -> Device:
        return cast(Device, self.request.auth)  # IsDevice let the request in


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
                HEARTBEAT_REFUSED, description="A field is missing or out of range."
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
        answer = {"server_time": timezone.now(), "paired": False, "display": DISPLAY_UNPAIRED}
        return Response(self.OutputSerializer(answer).data)
