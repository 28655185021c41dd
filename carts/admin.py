"""Carts, stock mismatches and cart passes in the admin, for store staff.

Carts are shown, never edited here: every cart change goes through ``carts.services`` (version,
stock rules, live updates). A cart's session key is never shown (it would let anyone holding it
act as that browser), nor a pass's token (with the site's secret it is the shopper's pass).
"""

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from carts.models import Cart, CartLine, CartPass, StockMismatch
from carts.selectors import cart_price_of_prefetched
from carts.services import cart_pass_replace, stock_mismatch_resolve
from catalog.instore_labels import instore_label_describe
from shopcart.core.admin_permissions import NoAddOrDeleteMixin, ViewOnlyMixin
from shopcart.core.money import money_format

MESSAGE_REPLACED = "Replaced the cart pass of {count} shopper(s); their old passes stopped working."
MESSAGE_RESOLVED = "Marked {count} stock mismatch(es) resolved."
OWNER_ANONYMOUS = "anonymous"


class CartLineInline(admin.TabularInline):
    model = CartLine
    fields = readonly_fields = (
        "product",
        "product_name",
        "label",
        "unit_price",
        "quantity",
        "scanned_quantity",
        "added_at",
    )
    extra = 0
    can_delete = False

    @admin.display(description="in-store label", empty_value="")
    def label(self, line: CartLine) -> str:
        """The label's GTIN and what it says beyond the price: "02812345004128 (0.412 kg)"."""
        if not line.label_code:
            return ""
        described = instore_label_describe(line.label_code)
        return f"{line.label_code} ({described})" if described else line.label_code

    def get_queryset(self, request: HttpRequest) -> QuerySet[CartLine]:
        return super().get_queryset(request).select_related("product")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Cart)
class CartAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "owner_email", "status", "version", "item_count", "total", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["owner__email"]
    fields = readonly_fields = (
        "owner_email",
        "status",
        "version",
        "coupon",
        "item_count",
        "total",
        "created_at",
        "updated_at",
        "closed_at",
    )
    inlines = [CartLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cart]:
        lines = CartLine.objects.select_related("product")
        return (
            super()
            .get_queryset(request)
            .select_related("owner", "coupon__category")
            .annotate(items=Coalesce(Sum("lines__quantity"), 0))
            .prefetch_related(Prefetch("lines", queryset=lines))
        )

    @admin.display(description="owner", ordering="owner__email")
    def owner_email(self, cart: Cart) -> str:
        return cart.owner.email if cart.owner else OWNER_ANONYMOUS

    @admin.display(description="items", ordering="items")
    def item_count(self, cart: Cart) -> int:
        return cart.items  # type: ignore[attr-defined]  # annotated in get_queryset

    @admin.display(description="total")
    def total(self, cart: Cart) -> str:
        amount: Decimal = cart_price_of_prefetched(cart).total
        return money_format(amount)


@admin.register(StockMismatch)
class StockMismatchAdmin(NoAddOrDeleteMixin, admin.ModelAdmin):
    list_display = [
        "product",
        "cart",
        "quantity_in_cart",
        "stock_recorded",
        "created_at",
        "resolved",
    ]
    list_filter = ["resolved", "created_at"]
    list_select_related = ["product", "cart"]
    search_fields = ["product__name"]
    fields = readonly_fields = (
        "product",
        "cart",
        "quantity_in_cart",
        "stock_recorded",
        "created_at",
        "resolved",
    )
    actions = ["mark_resolved"]

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[StockMismatch]) -> None:
        count = stock_mismatch_resolve(mismatch_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, MESSAGE_RESOLVED.format(count=count), messages.SUCCESS)


@admin.register(CartPass)
class CartPassAdmin(NoAddOrDeleteMixin, admin.ModelAdmin):
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
