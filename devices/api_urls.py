"""Cart device API, protocol v1, mounted at /api/devices/v1/."""

from django.urls import path

from devices.api import EnrolApi, HeartbeatApi, ScanCreateApi

app_name = "devices-api"

urlpatterns = [
    path("enrol/", EnrolApi.as_view(), name="enrol"),
    path("heartbeat/", HeartbeatApi.as_view(), name="heartbeat"),
    path("scans/", ScanCreateApi.as_view(), name="scans"),
]
