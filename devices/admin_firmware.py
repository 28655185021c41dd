"""Firmware releases in the admin: upload a signed build, choose the carts it goes to, watch it
spread. The signature is checked on upload (``devices.firmware.release_check``): an unsigned or
mis-signed binary is refused with the reason on the form."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from devices.firmware import ERROR_VERSION, ReleaseInvalid, release_check, version_key
from devices.models import FirmwareRelease
from devices.selectors import firmware_rollout_progress

FIXED_AFTER_UPLOAD = ("version", "binary", "size", "sha256", "signature", "created_at")


class FirmwareReleaseForm(forms.ModelForm):
    class Meta:
        model = FirmwareRelease
        fields = (
            "version",
            "binary",
            "sha256",
            "signature",
            "notes",
            "rollout_percent",
            "target_devices",
        )

    def clean_version(self) -> str:
        version = self.cleaned_data["version"]
        if version_key(version) is None:
            raise forms.ValidationError(ERROR_VERSION)
        return version

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("binary")
        if self.instance.pk is not None or upload is None:
            return cleaned  # the binary is fixed once uploaded
        data = upload.read()
        upload.seek(0)
        try:
            cleaned["sha256"] = release_check(
                binary=data,
                sha256=cleaned.get("sha256", ""),
                signature=cleaned.get("signature", ""),
            )
        except ReleaseInvalid as error:
            raise forms.ValidationError(str(error)) from None
        self.instance.size = len(data)
        return cleaned


@admin.register(FirmwareRelease)
class FirmwareReleaseAdmin(admin.ModelAdmin):
    form = FirmwareReleaseForm
    list_display = ("version", "created_at", "rollout_percent", "chosen_carts", "progress", "size")
    filter_horizontal = ("target_devices",)
    search_fields = ("version", "notes")

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("target_devices")

    def get_readonly_fields(
        self, request: HttpRequest, obj: FirmwareRelease | None = None
    ) -> tuple[str, ...]:
        return FIXED_AFTER_UPLOAD if obj is not None else ()

    @admin.display(description="chosen carts")
    def chosen_carts(self, release: FirmwareRelease) -> int:
        return len(release.target_devices.all())

    @admin.display(description="running / meant for")
    def progress(self, release: FirmwareRelease) -> str:
        running, meant = firmware_rollout_progress(release)
        return f"{running} / {meant}"

    def save_model(
        self, request: HttpRequest, obj: FirmwareRelease, form: forms.ModelForm, change: bool
    ) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)
