"""Orders, payments, refunds and webhook events in the admin, for store staff.

Orders are the store's books: nothing here edits a line, a total or a status by hand, and
nothing is deleted. Money goes back only through the "Refund…" action (staff holding
``orders.refund_order``), which asks how much and why on a confirmation page and then goes
through the gateway with ``order_refund``. The order list shows what was paid per day for the
orders it lists, from one aggregate query.
"""

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from orders.errors import OrderError
from orders.forms import RefundForm
from orders.models import CouponRedemption, Order, OrderLine, Payment, Refund, WebhookEvent
from orders.services import order_refund
from shopcart.core.admin_permissions import ViewOnlyMixin
from shopcart.core.money import money_format

MESSAGE_REFUNDED = "Refunded {amount} of order {number}."
MESSAGE_CHOOSE_ONE = "Choose one order to refund at a time."
MESSAGE_NOTHING_TO_REFUND = "Order {number} is {status}: there is nothing to refund."
REFUND_PERMISSION = "orders.refund_order"
REFUND_TEMPLATE = "admin/orders/order/refund.html"
# The daily totals above the order list cover at most this many of the latest days.
DAILY_TOTALS_DAYS = 31


def daily_totals(orders: QuerySet[Order]) -> list[dict[str, Any]]:
    """Per day of payment (newest first): orders paid, amount paid, refunded and kept.

    One grouped query over ``orders`` (the changelist's filtered queryset), whatever its size.
    """
    rows = (
        orders.order_by()  # the model's ordering would split the groups
        .filter(paid_at__isnull=False)
        .annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(
            count=Count("pk"),
            paid=Sum("total"),
            refunded=Sum("refunded_amount"),
            kept=Sum(F("total") - F("refunded_amount")),
        )
        .order_by("-day")[:DAILY_TOTALS_DAYS]
    )
    return [dict(row) for row in rows]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    fields = readonly_fields = (
        "product_name",
        "gtin",
        "unit_price",
        "quantity",
        "scanned_quantity",
        "subtotal",
        "discount",
        "total",
        "product",
    )
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("product")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = readonly_fields = (
        "gateway",
        "external_id",
        "amount",
        "currency",
        "status",
        "failure_message",
        "created_at",
        "updated_at",
    )
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "shopper_email",
        "status",
        "total_amount",
        "refunded",
        "created_at",
        "paid_at",
        "exited_at",
        "flagged_for_audit",
    )
    list_filter = ("status", "created_at", "flagged_for_audit")
    date_hierarchy = "created_at"
    search_fields = ("number", "email", "user__email")
    list_select_related = ("user",)
    fields = readonly_fields = (
        "number",
        "shopper_email",
        "status",
        "currency",
        "subtotal",
        "discount",
        "coupon_code",
        "coupon_description",
        "total",
        "refunded_amount",
        "created_at",
        "expires_at",
        "paid_at",
        "closed_at",
        "exited_at",
        "exit_checked_by",
        "flagged_for_audit",
        "cart",
        "cart_version",
    )
    inlines = (OrderLineInline, PaymentInline)
    actions = ("refund",)

    @admin.display(description="shopper", ordering="email")
    def shopper_email(self, order: Order) -> str:
        return order.email or (order.user.email if order.user else "")

    @admin.display(description="total", ordering="total")
    def total_amount(self, order: Order) -> str:
        return money_format(order.total, order.currency)

    @admin.display(description="refunded", ordering="refunded_amount")
    def refunded(self, order: Order) -> str:
        return money_format(order.refunded_amount, order.currency) if order.refunded_amount else ""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context is not None and "cl" in context:
            context["daily_totals"] = daily_totals(context["cl"].queryset)
        return response

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    @admin.action(description="Refund…", permissions=["refund"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> TemplateResponse | None:
        """Ask how much of one order to refund and why, then refund it through the gateway."""
        orders = list(queryset[:2])
        if len(orders) != 1:
            self.message_user(request, MESSAGE_CHOOSE_ONE, messages.WARNING)
            return None
        order = orders[0]
        if not order.is_paid:
            status = order.get_status_display()
            self.message_user(
                request,
                MESSAGE_NOTHING_TO_REFUND.format(number=order.number, status=status),
                messages.ERROR,
            )
            return None
        confirmed = request.POST.get("post") == "yes"
        form = RefundForm(
            request.POST if confirmed else None,
            refundable=order.refundable_amount,
            currency=order.currency,
        )
        if not form.is_valid():
            return self._refund_page(request, order, form)
        self._refund_do(request, order, form.cleaned_data["amount"], form.cleaned_data["reason"])
        return None

    def _refund_do(self, request: HttpRequest, order: Order, amount: Decimal, reason: str) -> None:
        staff = request.user if isinstance(request.user, User) else None
        try:
            order_refund(order=order, amount=amount, requested_by=staff, reason=reason)
        except OrderError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        shown = money_format(amount, order.currency)
        self.message_user(
            request, MESSAGE_REFUNDED.format(amount=shown, number=order.number), messages.SUCCESS
        )

    def _refund_page(
        self, request: HttpRequest, order: Order, form: RefundForm
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Refund order {order.number}",
            "order": order,
            "form": form,
            "refundable": money_format(order.refundable_amount, order.currency),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, REFUND_TEMPLATE, context)


@admin.register(Payment)
class PaymentAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("__str__", "order", "gateway", "status", "amount", "currency", "created_at")
    list_filter = ("gateway", "status", "created_at")
    search_fields = ("order__number", "external_id")
    list_select_related = ("order",)
    fields = readonly_fields = (
        "order",
        "gateway",
        "external_id",
        "amount",
        "currency",
        "status",
        "failure_message",
        "redirect_url",
        "created_at",
        "updated_at",
    )


@admin.register(Refund)
class RefundAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "order_number",
        "amount",
        "status",
        "reason",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("payment__order__number", "external_id")
    list_select_related = ("payment__order", "requested_by")
    fields = readonly_fields = (
        "payment",
        "external_id",
        "amount",
        "status",
        "reason",
        "requested_by",
        "created_at",
    )

    @admin.display(description="order", ordering="payment__order__number")
    def order_number(self, refund: Refund) -> str:
        return refund.payment.order.number


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Who used which coupon on which order: what the per-shopper limits count."""

    list_display = ("coupon", "order", "shopper", "created_at")
    list_filter = ("coupon", "created_at")
    search_fields = ("coupon__code", "order__number", "order__email")
    list_select_related = ("coupon", "order")
    fields = readonly_fields = ("coupon", "order", "shopper", "created_at")

    @admin.display(description="shopper", ordering="order__email")
    def shopper(self, redemption: CouponRedemption) -> str:
        return redemption.order.email


@admin.register(WebhookEvent)
class WebhookEventAdmin(ViewOnlyMixin, admin.ModelAdmin):
    list_display = ("event_id", "gateway", "event_type", "order", "outcome", "received_at")
    list_filter = ("gateway", "event_type", "received_at")
    search_fields = ("event_id", "order__number")
    list_select_related = ("order",)
    fields = readonly_fields = (
        "gateway",
        "event_id",
        "event_type",
        "order",
        "outcome",
        "received_at",
    )
