"""CSV import and export of products with their barcodes (django-import-export).

Columns: slug, name, category, price, stock, active, description, barcodes. An export
re-imports unchanged.

* ``slug`` matches an existing product, which is updated; blank (or no slug column) means a
  new product whose slug is derived from its name.
* ``category`` is a category name; a name the store does not have yet creates that category.
* ``barcodes`` holds several codes separated by ``;`` or ``|``, each in any GS1 form; they
  replace the product's barcodes and are stored as GTIN-14. Without a ``barcodes`` column the
  product's barcodes are left alone.
* A blank ``stock`` or ``active`` keeps the current value (new products: 0 and active).

A file with any bad row imports nothing: every row is checked, each problem is reported with
its line in the file (the header is line 1), and the whole import is rolled back.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.text import slugify
from import_export import fields, resources, widgets
from import_export.results import Result

from catalog.barcodes import BarcodeError, gtin_normalise
from catalog.models import Category, Product
from catalog.services import (
    CatalogError,
    barcodes_normalise,
    product_slug_unique,
    product_update,
)
from shopcart.core.money import ERROR_PRICE_TOO_HIGH, PRICE_MAX

ERROR_NAME_MISSING = "Every product needs a name."
ERROR_PRICE_MISSING = "Every product needs a price."
ERROR_PRICE_INVALID = "The price must be a number such as 2.50; '{value}' is not."
ERROR_PRICE_NEGATIVE = "The price cannot be negative."
ERROR_STOCK_INVALID = "The stock must be a whole number such as 12; '{value}' is not."
ERROR_STOCK_NEGATIVE = "The stock cannot be negative."
ERROR_ACTIVE_INVALID = "Active must be 1 or 0 (or yes/no, true/false); '{value}' is not."
ERROR_BARCODE_IN_FILE = "Barcode {gtin} is also listed on line {line}."

COLUMNS = ("slug", "name", "category", "price", "stock", "active", "description", "barcodes")
BARCODE_SEPARATORS = re.compile(r"[;|]")
EXPORT_BARCODE_SEPARATOR = ";"
# Data row 1 of the file is line 2: the header takes line 1.
FIRST_DATA_LINE = 2

_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})


@dataclass(frozen=True)
class ImportProblem:
    """Why one line of an import file was refused (``line`` is None for the file as a whole)."""

    line: int | None
    column: str | None
    message: str


class ProductImportResult(Result):
    """An import result that can list its problems by line of the file."""

    @property
    def problems(self) -> list[ImportProblem]:
        found = [ImportProblem(None, None, str(error.error)) for error in self.base_errors]
        for invalid in self.invalid_rows:
            line = invalid.number + FIRST_DATA_LINE - 1
            for column, messages in invalid.error_dict.items():
                name = None if column == NON_FIELD_ERRORS else column
                found += [ImportProblem(line, name, str(message)) for message in messages]
        for error_row in self.error_rows:
            line = error_row.number + FIRST_DATA_LINE - 1
            found += [ImportProblem(line, None, str(error.error)) for error in error_row.errors]
        return sorted(found, key=lambda problem: problem.line or 0)


class PriceWidget(widgets.Widget):
    """A price as a plain decimal (``2.50``), whatever the locale."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Decimal | None:
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise ValueError(ERROR_PRICE_INVALID.format(value=text)) from None
        if not price.is_finite():
            raise ValueError(ERROR_PRICE_INVALID.format(value=text))
        if price < 0:
            raise ValueError(ERROR_PRICE_NEGATIVE)
        if price > PRICE_MAX:
            raise ValueError(ERROR_PRICE_TOO_HIGH)
        return price

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class StockWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        if not re.fullmatch(r"-?\d{1,9}", text):
            raise ValueError(ERROR_STOCK_INVALID.format(value=text))
        stock = int(text)
        if stock < 0:
            raise ValueError(ERROR_STOCK_NEGATIVE)
        return stock

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class ActiveWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        text = str(value if value is not None else "").strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(ERROR_ACTIVE_INVALID.format(value=value))

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "1" if value else "0"


class CategoryWidget(widgets.Widget):
    """A category by name; a name the store does not know yet creates the category."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Category | None:
        name = str(value if value is not None else "").strip()
        if not name:
            return None
        category = Category.objects.filter(name__iexact=name).first()
        if category is None:
            category = Category.objects.create(name=name, slug=_category_slug_unique(name))
        return category

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else value.name


def _category_slug_unique(name: str) -> str:
    base = slugify(name)[:90] or "category"
    taken = set(Category.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


class BarcodesField(fields.Field):
    """The product's barcodes in one cell. The resource imports them itself, after the save."""

    def __init__(self) -> None:
        super().__init__(attribute="barcodes", column_name="barcodes", readonly=True)

    def get_value(self, instance: Product) -> str:
        if instance.pk is None:
            return ""
        return EXPORT_BARCODE_SEPARATOR.join(barcode.gtin for barcode in instance.barcodes.all())


class ProductResource(resources.ModelResource):
    slug = fields.Field(attribute="slug", column_name="slug", widget=widgets.CharWidget())
    name = fields.Field(attribute="name", column_name="name", widget=widgets.CharWidget())
    category = fields.Field(attribute="category", column_name="category", widget=CategoryWidget())
    price = fields.Field(attribute="price", column_name="price", widget=PriceWidget())
    stock = fields.Field(
        attribute="stock", column_name="stock", widget=StockWidget(), saves_null_values=False
    )
    active = fields.Field(
        attribute="active", column_name="active", widget=ActiveWidget(), saves_null_values=False
    )
    description = fields.Field(
        attribute="description", column_name="description", widget=widgets.CharWidget()
    )
    barcodes = BarcodesField()

    class Meta:
        model = Product
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("slug",)
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = False
        # Nobody looks at a before/after diff of each row (imports run as jobs, catalog.imports),
        # and building one per row cost a copy and an export of the product.
        skip_diff = True
        name = "Products with barcodes"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._line_of_gtin: dict[str, int] = {}
        self._gtins_by_row: dict[int, list[str]] = {}

    @classmethod
    def get_result_class(cls) -> type[ProductImportResult]:
        return ProductImportResult

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> ProductImportResult:
        # Any bad row rolls back the whole file, not only rows that raised exceptions.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, *args, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        self._line_of_gtin.clear()
        self._gtins_by_row.clear()
        if "slug" not in (dataset.headers or []):
            dataset.append_col([""] * len(dataset), header="slug")

    def import_instance(self, instance: Product, row: dict[str, Any], **kwargs: Any) -> None:
        """Read the row into ``instance`` and check it; raises ValidationError per column."""
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        errors.update(self._required_errors(instance, errors))
        if "barcodes" in row:
            line = kwargs["row_number"] + FIRST_DATA_LINE - 1
            try:
                self._gtins_by_row[kwargs["row_number"]] = self._row_gtins(instance, row, line)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if not instance.slug and instance.name:
            instance.slug = product_slug_unique(instance.name)
        if errors:
            raise ValidationError(errors)

    def _required_errors(self, instance: Product, errors: dict[str, Any]) -> dict[str, list[str]]:
        required = {}
        if not (instance.name or "").strip() and "name" not in errors:
            required["name"] = [ERROR_NAME_MISSING]
        if instance.price is None and "price" not in errors:
            required["price"] = [ERROR_PRICE_MISSING]
        return required

    def validate_instance(
        self,
        instance: Product,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        """The model's own checks (slug format and uniqueness, price digits) on top of ours."""
        errors = dict(import_validation_errors or {})
        exclude = set(errors)
        if not instance.slug:
            # No slug only happens when the name is missing, which is reported already.
            exclude.add("slug")
        try:
            instance.full_clean(exclude=exclude, validate_unique=validate_unique)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _row_gtins(self, instance: Product, row: dict[str, Any], line: int) -> list[str]:
        """The row's barcodes as GTIN-14s; refuses bad, repeated and already-used codes."""
        codes = [c for c in BARCODE_SEPARATORS.split(str(row["barcodes"] or "")) if c.strip()]
        gtins = []
        for code in codes:
            try:
                gtin = gtin_normalise(code).gtin
            except BarcodeError as exc:
                raise ValidationError({"barcodes": str(exc)}) from exc
            earlier = self._line_of_gtin.setdefault(gtin, line)
            if earlier != line:
                raise ValidationError(
                    {"barcodes": ERROR_BARCODE_IN_FILE.format(gtin=gtin, line=earlier)}
                )
            gtins.append(gtin)
        try:
            return barcodes_normalise(gtins, product=instance if instance.pk else None)
        except CatalogError as exc:
            raise ValidationError({"barcodes": str(exc)}) from exc

    def after_save_instance(self, instance: Product, row: dict[str, Any], **kwargs: Any) -> None:
        gtins = self._gtins_by_row.pop(kwargs["row_number"], None)
        if gtins is None or instance.pk is None:
            return
        product_update(product=instance, barcodes=gtins)

    def filter_export(self, queryset: QuerySet[Product], **kwargs: Any) -> QuerySet[Product]:
        return queryset.select_related("category").prefetch_related("barcodes")
