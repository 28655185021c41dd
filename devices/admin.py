"""Staff register carts, watch their health, and revoke or rotate their keys.

A new device's key is shown once, in a message after saving; so is a rotated key. Revoke and
rotate ask for confirmation first, on an intermediate page as Django's delete does.

Scan events are shown, never edited. A kept photo of a failed scan (``devices.services.photos``)
is shown through the admin's own view, to staff who may view scan events only.
"""

from pathlib import PurePath
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.forms import ModelForm
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from devices.admin_firmware import FirmwareReleaseAdmin  # noqa: F401 - registers it
from devices.admin_provisioning import ProvisioningAdminMixin
from devices.models import Device, Pairing, ScanEvent, UnknownCode
from devices.selectors import device_restart_list, unknown_code_list_open
from devices.services import (
    DeviceError,
    device_delete,
    device_register,
    device_revoke,
    device_rotate_key,
    device_unpair,
)
from shopcart.core.admin_permissions import ViewOnlyMixin
from shopcart.core.dates import local_day_start

MESSAGE_KEY_ISSUED = "The key of “{name}” is: {key}"
MESSAGE_KEY_NOT_SHOWN_AGAIN = (
    "Copy the key into the cart's provisioning now: it is not shown again. "
    "If it is lost, rotate the key."
)
CONSEQUENCE_REVOKE = "Their keys are refused from their next request on. This cannot be undone."
CONSEQUENCE_ROTATE = "Each old key keeps working for the rotation grace period, then is refused."
MESSAGE_REVOKED = "Revoked {count} device(s); their next request is refused."
MESSAGE_UNPAIRED = "Ended the pairing of {count} device(s)."
MESSAGE_CHOOSE_ONE_CODE = "Choose one code to create a product from."

CONFIRMATION_TEMPLATE = "admin/devices/device/action_confirmation.html"
READ_ONLY_FIELDS = (
    "key_prefix",
    "revoked_at",
    "created_at",
    "last_seen_at",
    "firmware_version",
    "uptime_seconds",
    "wifi_rssi",
    "free_heap",
    "queue_depth",
    "reset_reason",
    "booted_at",
    "recent_restarts",
    "free_psram",
    "failed_captures",
    "camera_ok",
    "previous_key_valid_until",
)


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("post") == "yes"


@admin.register(Device)
class DeviceAdmin(ProvisioningAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "online",
        "last_seen_at",
        "firmware_version",
        "wifi_rssi",
        "free_heap",
        "queue_depth",
        "camera_ok",
        "reset_reason",
        "paired_shopper",
        "scans_today",
        "revoked",
    )
    list_filter = ("revoked_at", "camera_ok", "reset_reason")
    search_fields = ("name", "key_prefix")
    ordering = ("name",)
    actions = ("revoke", "rotate_key", "end_pairing")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Device]:
        # One subquery, not a query per row.
        shopper = (
            Pairing.objects.in_force().filter(device=OuterRef("pk")).values("cart__owner__email")
        )
        today = Count("scan_events", filter=Q(scan_events__created_at__gte=local_day_start()))
        return (
            super()
            .get_queryset(request)
            .annotate(paired_shopper_email=Subquery(shopper[:1]), scans_today_count=today)
        )

    @admin.display(description="paired shopper", empty_value="—")
    def paired_shopper(self, device: Device) -> str | None:
        return getattr(device, "paired_shopper_email", None)

    @admin.display(description="scans today", ordering="scans_today_count")
    def scans_today(self, device: Device) -> int:
        return getattr(device, "scans_today_count", 0)

    @admin.action(description="End the pairing of the selected devices", permissions=["change"])
    def end_pairing(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        ended = sum(device_unpair(device=device) for device in queryset)
        self.message_user(request, MESSAGE_UNPAIRED.format(count=ended), messages.SUCCESS)

    def get_fields(self, request: HttpRequest, obj: Device | None = None) -> tuple[str, ...]:
        return ("name",) if obj is None else ("name", *READ_ONLY_FIELDS)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Device | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else READ_ONLY_FIELDS

    @admin.display(description="recent starts")
    def recent_restarts(self, device: Device) -> str:
        restarts = device_restart_list(device=device)
        if not restarts:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} — {}</li>",
                (
                    (
                        f"{timezone.localtime(restart.booted_at):%Y-%m-%d %H:%M}",
                        restart.get_reason_display() or "—",
                    )
                    for restart in restarts
                ),
            ),
        )

    @admin.display(boolean=True, description="online")
    def online(self, device: Device) -> bool:
        return device.is_online

    @admin.display(boolean=True, description="revoked", ordering="revoked_at")
    def revoked(self, device: Device) -> bool:
        return device.is_revoked

    def save_model(self, request: HttpRequest, obj: Device, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        registered, raw_key = device_register(name=obj.name)
        # The admin goes on with ``obj`` (log entry, redirect): make it the registered row.
        obj.pk = registered.pk
        obj.refresh_from_db()
        obj._state.adding = False
        self._key_show(request, obj, raw_key)

    def delete_model(self, request: HttpRequest, obj: Device) -> None:
        device_delete(device=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            device_delete(device=device)

    def _key_show(self, request: HttpRequest, device: Device, raw_key: str) -> None:
        messages.success(request, MESSAGE_KEY_ISSUED.format(name=device.name, key=raw_key))
        messages.warning(request, MESSAGE_KEY_NOT_SHOWN_AGAIN)

    def _confirm(
        self, request: HttpRequest, queryset: QuerySet[Device], *, action: str, **text: str
    ) -> TemplateResponse:
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            **text,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)

    @admin.action(description="Revoke the selected devices", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> TemplateResponse | None:
        if not _confirmed(request):
            return self._confirm(
                request,
                queryset,
                action="revoke",
                title="Revoke devices",
                question="Revoke these devices?",
                consequence=CONSEQUENCE_REVOKE,
            )
        for device in queryset:
            device_revoke(device=device)
        self.message_user(request, MESSAGE_REVOKED.format(count=len(queryset)), messages.SUCCESS)
        return None

    @admin.action(description="Rotate the key of the selected devices", permissions=["change"])
    def rotate_key(
        self, request: HttpRequest, queryset: QuerySet[Device]
    ) -> TemplateResponse | None:
        if not _confirmed(request):
            return self._confirm(
                request,
                queryset,
                action="rotate_key",
                title="Rotate device keys",
                question="Give these devices new keys?",
                consequence=CONSEQUENCE_ROTATE,
            )
        for device in queryset:
            try:
                raw_key = device_rotate_key(device=device)
            except DeviceError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            self.message_user(
                request, MESSAGE_KEY_ISSUED.format(name=device.name, key=raw_key), messages.SUCCESS
            )
        self.message_user(request, MESSAGE_KEY_NOT_SHOWN_AGAIN, messages.WARNING)
        return None


@admin.register(UnknownCode)
class UnknownCodeAdmin(admin.ModelAdmin):
    """Valid codes carts scanned that the catalog lacks, most recent first.

    An inbox: a code leaves it once a product has its barcode (``unknown_code_list_open``).
    "Create product from this code" is an action on the list and a button on a code's page
    (``templates/admin/devices/unknowncode/change_form.html``).
    """

    list_display = ("gtin", "count", "first_seen_at", "last_seen_at")
    search_fields = ("gtin",)
    ordering = ("-last_seen_at",)
    readonly_fields = ("gtin", "count", "first_seen_at", "last_seen_at")
    actions = ("create_product",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnknownCode]:
        return unknown_code_list_open().order_by(*self.get_ordering(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # only scans add codes

    @admin.action(description="Create product from this code", permissions=["view"])
    def create_product(
        self, request: HttpRequest, queryset: QuerySet[UnknownCode]
    ) -> HttpResponseRedirect | None:
        codes = list(queryset[:2])
        if len(codes) != 1:
            self.message_user(request, MESSAGE_CHOOSE_ONE_CODE, messages.WARNING)
            return None
        url = reverse("admin:catalog_product_add")
        return HttpResponseRedirect(f"{url}?{urlencode({'barcode': codes[0].gtin})}")


PHOTO_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


@admin.register(ScanEvent)
class ScanEventAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Every scan carts sent, newest first; a failed scan's photo when one was kept."""

    list_display = ("created_at", "device", "cart", "result", "code", "decode_ms", "has_photo")
    list_filter = ("result", ("photo", admin.EmptyFieldListFilter), "created_at", "device")
    list_select_related = ("device", "cart")
    search_fields = ("code", "gtin", "scan_id")
    fields = readonly_fields = (
        "created_at",
        "device",
        "cart",
        "scan_id",
        "result",
        "code",
        "gtin",
        "decode_ms",
        "answer",
        "photo_shown",
    )

    @admin.display(boolean=True, description="photo")
    def has_photo(self, event: ScanEvent) -> bool:
        return bool(event.photo)

    @admin.display(description="photo", empty_value="—")
    def photo_shown(self, event: ScanEvent) -> str | None:
        if not event.photo:
            return None
        url = reverse("admin:devices_scanevent_photo", args=[event.pk])
        return format_html(
            '<a href="{url}"><img src="{url}" alt="Photo of the scan" '
            'style="max-width: 320px; height: auto"></a>',
            url=url,
        )

    def get_urls(self) -> list[URLPattern]:
        photo = path(
            "<int:event_id>/photo/",
            self.admin_site.admin_view(self.photo_view),
            name="devices_scanevent_photo",
        )
        return [photo, *super().get_urls()]

    def photo_view(self, request: HttpRequest, event_id: int) -> FileResponse:
        """The kept photo, for staff who may view scan events; 404 for anyone else."""
        event = ScanEvent.objects.filter(pk=event_id).exclude(photo="").first()
        if event is None or not self.has_view_permission(request, event):
            raise Http404("No photo.")
        try:
            handle = event.photo.open("rb")
        except FileNotFoundError:  # purged meanwhile
            raise Http404("No photo.") from None
        suffix = PurePath(event.photo.name or "").suffix.lower()
        kind = PHOTO_TYPES.get(suffix, "application/octet-stream")
        response = FileResponse(handle, content_type=kind)
        response["Cache-Control"] = "private, no-store"
        return response
