"""The catalog in the Django admin, for store staff.

Managers edit everything, export CSV and import it (``ProductImportAdmin``: the upload page,
then the import's own page with its progress; the import runs in the background,
``catalog.imports``); clerks (``catalog.adjust_stock`` without ``catalog.change_product``) may
open a product and change its stock, nothing else.
"""

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ExportForm

from catalog.forms import (
    PRODUCT_FIELDS,
    BarcodeInlineForm,
    BarcodeInlineFormSet,
    ProductAdminForm,
    ProductImportForm,
)
from catalog.imports import product_import_start, product_imports_resume
from catalog.models import (
    LOW_STOCK_THRESHOLD,
    Barcode,
    Category,
    Coupon,
    Product,
    ProductImport,
    ProductTip,
    ProductTipFailure,
    RecommendationBuild,
)
from catalog.resources import ProductResource
from catalog.selectors import product_search_condition
from catalog.services import product_deactivate
from catalog.tips import tips_approve, tips_hide, tips_regenerate, tips_show
from shopcart.core.admin_permissions import NoAddOrDeleteMixin, ViewOnlyMixin
from shopcart.core.money import money_format

MESSAGE_DEACTIVATED = "Deactivated {count} product(s)."
MESSAGE_TIPS_APPROVED = "Approved {count} tip(s): shoppers see them now."
MESSAGE_TIPS_NOT_PENDING = (
    "{count} selected tip(s) were not waiting for approval and are unchanged."
)
MESSAGE_TIPS_HIDDEN = "Hid {count} tip(s): shoppers no longer see them."
MESSAGE_TIPS_SHOWN = "Showing {count} tip(s) again, as they are; they are no longer rewritten."
MESSAGE_TIPS_REGENERATE = (
    "{count} tip(s) will be written again by the next AI run, then wait for approval."
)
MESSAGE_IMPORT_QUEUED = (
    "The file is being imported in the background; this page shows how far it got."
)
MESSAGE_IMPORTS_RESUMED = "Resumed {count} import(s); the others are finished or under way."
# The import page reloads itself this often while the import runs (no script: the CSP).
IMPORT_PAGE_REFRESH_SECONDS = 3

# What a clerk may change on a product; every other field is read-only for them.
CLERK_FIELDS = {"stock"}


def can_edit_products(request: HttpRequest) -> bool:
    return request.user.has_perm("catalog.change_product")


def can_adjust_stock(request: HttpRequest) -> bool:
    return request.user.has_perm("catalog.adjust_stock")


def can_import_products(request: HttpRequest) -> bool:
    return request.user.has_perm("catalog.add_product") and can_edit_products(request)


class StockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("out", "Out of stock (0)"),
            ("low", f"Low (≤ {LOW_STOCK_THRESHOLD})"),
            ("in", "In stock"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "out":
            return queryset.filter(stock__lte=0)
        if self.value() == "low":
            return queryset.low_stock()  # type: ignore[attr-defined]
        if self.value() == "in":
            return queryset.in_stock()  # type: ignore[attr-defined]
        return queryset


class BarcodeInline(admin.TabularInline):
    model = Barcode
    form = BarcodeInlineForm
    formset = BarcodeInlineFormSet
    extra = 1


@admin.register(Product)
class ProductAdmin(ExportMixin, admin.ModelAdmin):
    form = ProductAdminForm
    fields = PRODUCT_FIELDS
    inlines = [BarcodeInline]
    list_display = ["name", "category", "price", "stock", "active", "barcode_list"]
    list_select_related = ["category"]
    list_filter = ["category", "active", StockFilter]
    # The search itself is get_search_results; this turns the search box on.
    search_fields = ["name"]
    search_help_text = "Name, or any form of a barcode (EAN-13, UPC-A, UPC-E, EAN-8, GTIN-14)."
    prepopulated_fields = {"slug": ["name"]}
    actions = ["deactivate_selected"]
    resource_classes = [ProductResource]
    formats = [CSV]
    export_form_class = ExportForm  # always every column, so an export re-imports unchanged
    # The export button, and an import button leading to the product imports' upload page.
    import_export_change_list_template = "admin/catalog/product/change_list_import_export.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).prefetch_related("barcodes")

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Any, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        # "Create product from this code" (devices' unknown codes) opens the add form with
        # ?barcode=<gtin>: the first barcode row starts with it.
        barcode = request.GET.get("barcode", "")[:32]
        if barcode and request.method == "GET" and isinstance(inline, BarcodeInline):
            kwargs["initial"] = [{"gtin": barcode}]
        return kwargs

    @admin.display(description="barcodes")
    def barcode_list(self, product: Product) -> str:
        return ", ".join(barcode.gtin for barcode in product.barcodes.all())

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Product], search_term: str
    ) -> tuple[QuerySet[Product], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        # Barcode matches join the barcodes table, so a product can appear twice.
        return queryset.filter(product_search_condition(term)), True

    @admin.action(description="Deactivate selected products", permissions=["deactivate"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        products = list(queryset)
        for product in products:
            product_deactivate(product=product)
        self.message_user(request, MESSAGE_DEACTIVATED.format(count=len(products)))

    # --- What clerks may do ------------------------------------------------------------------

    def has_deactivate_permission(self, request: HttpRequest) -> bool:
        return can_edit_products(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_edit_products(request) or can_adjust_stock(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if can_edit_products(request):
            return []
        return [name for name in PRODUCT_FIELDS if name not in CLERK_FIELDS]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        # A read-only slug cannot be prepopulated (the admin would fail to find its input).
        return self.prepopulated_fields if can_edit_products(request) else {}

    # --- CSV export, and the way to the import ----------------------------------------------

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = extra_context or {}
        if can_import_products(request):
            extra_context["product_import_url"] = reverse("admin:catalog_productimport_add")
        return super().changelist_view(request, extra_context)


@admin.register(ProductImport)
class ProductImportAdmin(admin.ModelAdmin):
    """Uploading a CSV file of products, then watching its import: the page of an unfinished
    import reloads itself and shows the rows done and the problems found, by line."""

    form = ProductImportForm
    add_form_template = "admin/catalog/productimport/add_form.html"
    change_form_template = "admin/catalog/productimport/change_form.html"
    list_display = [
        "created_at", "file_name", "created_by", "mode", "status", "progress", "problem_count"
    ]  # fmt: skip
    list_select_related = ["created_by"]
    list_filter = ["status", "mode"]
    actions = ["resume_selected"]
    upload_fields = ("file", "mode")
    shown_fields = (
        "file_name", "file_size", "created_by", "created_at", "mode", "status", "progress",
        "message", "problem_count", "finished_at", "attempts",
    )  # fmt: skip

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.upload_fields if obj is None else self.shown_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return () if obj is None else self.shown_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return can_import_products(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_import_products(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an import is the record of what happened: nobody edits it

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resume_permission(self, request: HttpRequest) -> bool:
        return can_import_products(request)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        product_import_start(product_import=obj, user=cast(User, request.user))

    def response_add(
        self, request: HttpRequest, obj: Any, post_url_continue: str | None = None
    ) -> HttpResponse:
        self.message_user(request, MESSAGE_IMPORT_QUEUED)
        return HttpResponseRedirect(reverse("admin:catalog_productimport_change", args=[obj.pk]))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "refresh_seconds": IMPORT_PAGE_REFRESH_SECONDS}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="progress")
    def progress(self, product_import: ProductImport) -> str:
        return product_import.progress

    @admin.action(description="Resume selected imports that stopped", permissions=["resume"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[ProductImport]) -> None:
        count = product_imports_resume(
            product_import_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, MESSAGE_IMPORTS_RESUMED.format(count=count))


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="products", ordering="product_count")
    def product_count(self, category: Category) -> int:
        return category.product_count  # type: ignore[attr-defined]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "description",
        "discount",
        "category",
        "valid_from",
        "valid_until",
        "uses",
        "active",
    ]
    list_select_related = ["category"]
    list_filter = ["active", "category"]
    search_fields = ["code", "description"]
    readonly_fields = ["times_used"]
    fieldsets = [
        (None, {"fields": ["code", "description", "active"]}),
        ("Discount", {"fields": ["percent_off", "max_discount", "amount_off", "category"]}),
        (
            "Conditions",
            {
                "fields": [
                    "min_subtotal",
                    ("valid_from", "valid_until"),
                    ("max_uses", "max_uses_per_shopper"),
                    "times_used",
                ]
            },
        ),
    ]

    @admin.display(description="discount")
    def discount(self, coupon: Coupon) -> str:
        parts = []
        if coupon.percent_off is not None:
            parts.append(f"{coupon.percent_off.normalize():f} %")
        if coupon.amount_off is not None:
            parts.append(money_format(coupon.amount_off))
        text = " + ".join(parts)
        if coupon.max_discount is not None:
            text += f" (at most {money_format(coupon.max_discount)})"
        return text

    @admin.display(description="uses")
    def uses(self, coupon: Coupon) -> str:
        limit = "∞" if coupon.max_uses is None else str(coupon.max_uses)
        return f"{coupon.times_used} / {limit}"


@admin.register(ProductTip)
class ProductTipAdmin(NoAddOrDeleteMixin, admin.ModelAdmin):
    """Staff review the AI's tips: approve them (one by one or in bulk), edit one (it is then
    never rewritten), hide or show it. Shoppers see approved and edited tips only."""

    list_display = ["product", "text", "status", "generated_at", "model"]
    list_select_related = ["product"]
    list_filter = ["status"]
    search_fields = ["product__name", "text"]
    fields = ["product", "text", "status", "model", "generated_at", "updated_at"]
    readonly_fields = ["product", "model", "generated_at", "updated_at"]
    actions = ["approve_selected", "hide_selected", "show_selected", "regenerate_selected"]

    def save_model(self, request: HttpRequest, obj: ProductTip, form: Any, change: bool) -> None:
        # A tip the AI wrote whose words staff changed is theirs from now on.
        if "text" in form.changed_data and obj.written_by_ai:
            obj.status = ProductTip.Status.EDITED
        super().save_model(request, obj, form, change)

    @admin.action(description="Approve selected tips: shoppers see them", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[ProductTip]) -> None:
        selected = list(queryset.values_list("pk", flat=True))
        count = tips_approve(tip_ids=selected)
        self.message_user(request, MESSAGE_TIPS_APPROVED.format(count=count))
        if count < len(selected):
            self.message_user(
                request,
                MESSAGE_TIPS_NOT_PENDING.format(count=len(selected) - count),
                messages.WARNING,
            )

    @admin.action(description="Hide selected tips from shoppers", permissions=["change"])
    def hide_selected(self, request: HttpRequest, queryset: QuerySet[ProductTip]) -> None:
        count = tips_hide(tip_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, MESSAGE_TIPS_HIDDEN.format(count=count))

    @admin.action(description="Show selected tips as they are", permissions=["change"])
    def show_selected(self, request: HttpRequest, queryset: QuerySet[ProductTip]) -> None:
        count = tips_show(tip_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, MESSAGE_TIPS_SHOWN.format(count=count))

    @admin.action(description="Let the AI write selected tips again", permissions=["change"])
    def regenerate_selected(self, request: HttpRequest, queryset: QuerySet[ProductTip]) -> None:
        count = tips_regenerate(tip_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, MESSAGE_TIPS_REGENERATE.format(count=count))


@admin.register(ProductTipFailure)
class ProductTipFailureAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """Products whose tip requests failed, backing off until ``retry at``."""

    list_display = ["product", "failures", "last_error", "failed_at", "retry_at"]
    list_select_related = ["product"]


@admin.register(RecommendationBuild)
class RecommendationBuildAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """When "often bought with" was last learnt, and from how many orders."""

    list_display = ["finished_at", "orders", "products", "pairs", "seconds"]
    date_hierarchy = "finished_at"
