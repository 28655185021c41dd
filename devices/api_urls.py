"""Cart device API, protocol v1, mounted at /api/devices/v1/."""

from django.urls import path

from devices.api import EnrolApi, FirmwareDownloadApi, HeartbeatApi, ScanCreateApi

app_name = "devices-api"

urlpatterns = [
    path("enrol/", EnrolApi.as_view(), name="enrol"),
    path("firmware/<str:version>/", FirmwareDownloadApi.as_view(), name="firmware"),
    path("heartbeat/", HeartbeatApi.as_view(), name="heartbeat"),
    path("scans/", ScanCreateApi.as_view(), name="scans"),
]
