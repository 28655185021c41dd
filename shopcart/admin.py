"""The email outbox in the admin: read-only, for staff checking that an email went out.

Bodies and images are left out: the cart pass email's image is the shopper's pass itself.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from shopcart.core.admin_permissions import ViewOnlyMixin
from shopcart.models import OutboundEmail


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("sent", "Sent"), ("unsent", "Not sent yet")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[OutboundEmail]
    ) -> QuerySet[OutboundEmail]:
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "unsent":
            return queryset.filter(sent_at__isnull=True)
        return queryset


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = [StatusFilter, "kind"]
    # Exact address only: staff answer "did my email arrive?" without browsing addresses.
    search_fields = ["=recipient"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind",
        "recipient",
        "user",
        "subject",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    )
    list_per_page = 50

    @admin.display(description="status")
    def status(self, obj: OutboundEmail) -> str:
        return obj.status
