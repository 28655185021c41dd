"""Cart passes in the admin: who has one, when it was issued or revoked; staff can replace one.

The token is never shown: with the site's secret it is the shopper's pass.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from carts.models import CartPass
from carts.services import cart_pass_replace

MESSAGE_REPLACED = "Replaced the cart pass of {count} shopper(s); their old passes stopped working."


@admin.register(CartPass)
class CartPassAdmin(admin.ModelAdmin):
    list_display = ["user", "is_active", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__username"]
    fields = readonly_fields = ("user", "is_active", "created_at", "revoked_at")
    actions = ["replace_passes"]

    @admin.display(description="active", boolean=True)
    def is_active(self, obj: CartPass) -> bool:
        return bool(obj.active)

    @admin.action(description="Replace the selected shoppers' passes", permissions=["change"])
    def replace_passes(self, request: HttpRequest, queryset: QuerySet[CartPass]) -> None:
        users = {cart_pass.user for cart_pass in queryset.select_related("user")}
        for user in sorted(users, key=lambda user: user.pk):
            cart_pass_replace(user=user)
        self.message_user(request, MESSAGE_REPLACED.format(count=len(users)), messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
