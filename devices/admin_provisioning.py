"""“Add a cart” in the devices admin: a new device (or an existing one) and its provisioning QR.

No device key is shown here: the QR holds a single-use enrolment code that the cart exchanges
for its key (``devices.services.enrolment``). The QR page holds the Wi-Fi password and a live
code, so it is never cached.
"""

import base64
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from devices.provisioning import (
    provisioning_payload_for,
    provisioning_qr_png,
    provisioning_warnings,
)
from devices.services import DeviceError, Provisioning, device_provisioning_start

ERROR_NAME_TAKEN = "A device with this name exists: pick another, or provision that one again."
CONSEQUENCE_REPROVISION = (
    "The cart that scans the new QR gets a new key; the device's present key is refused from "
    "then on. The QR works once, for {minutes} minutes."
)

PROVISION_FORM_TEMPLATE = "admin/devices/device/provision_form.html"
PROVISION_QR_TEMPLATE = "admin/devices/device/provision_qr.html"


class CartAddForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="For example “Cart 12”.")


def _staff_user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get("post") == "yes"


class ProvisioningAdminMixin(admin.ModelAdmin):
    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("provision/", view(self.provision_view), name="devices_device_provision"),
            path(
                "<int:object_id>/provision/",
                view(self.reprovision_view),
                name="devices_device_reprovision",
            ),
            *super().get_urls(),
        ]

    def provision_view(self, request: HttpRequest) -> HttpResponse:
        """ "Add a cart": a new device and its provisioning QR (no key is shown: the cart gets
        one when it enrols with the QR's code)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CartAddForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                provisioning = device_provisioning_start(
                    name=form.cleaned_data["name"], created_by=_staff_user(request)
                )
            except IntegrityError:
                form.add_error("name", ERROR_NAME_TAKEN)
            else:
                return self._provisioning_show(request, provisioning)
        context = {**self._page_context(request, "Add a cart"), "form": form}
        return TemplateResponse(request, PROVISION_FORM_TEMPLATE, context)

    def reprovision_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A new provisioning QR for an existing device (a replaced or reset cart), after
        confirmation."""
        device = self.get_object(request, str(object_id))
        if device is None:
            raise Http404("No such device.")
        if not self.has_change_permission(request, device):
            raise PermissionDenied
        if request.method != "POST" or not confirmed(request):
            minutes = settings.DEVICE_ENROLMENT_TTL // 60
            context = {
                **self._page_context(request, f"Provision “{device.name}” again"),
                "device": device,
                "consequence": CONSEQUENCE_REPROVISION.format(minutes=minutes),
            }
            return TemplateResponse(request, PROVISION_FORM_TEMPLATE, context)
        try:
            provisioning = device_provisioning_start(device=device, created_by=_staff_user(request))
        except DeviceError as error:
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:devices_device_change", args=[device.pk]))
        return self._provisioning_show(request, provisioning)

    def _page_context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title}

    def _provisioning_show(self, request: HttpRequest, provisioning: Provisioning) -> HttpResponse:
        payload = provisioning_payload_for(token=provisioning.token)
        qr = base64.b64encode(provisioning_qr_png(payload)).decode()
        context = {
            **self._page_context(request, f"Provisioning QR for “{provisioning.device.name}”"),
            "device": provisioning.device,
            "qr_data_uri": f"data:image/png;base64,{qr}",
            "payload": payload,
            "expires_at": provisioning.expires_at,
            "warnings": provisioning_warnings(payload),
        }
        response = TemplateResponse(request, PROVISION_QR_TEMPLATE, context)
        # The QR holds the Wi-Fi password and a live enrolment code: keep it out of caches.
        response["Cache-Control"] = "private, no-store"
        return response
