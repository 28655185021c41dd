"""Staff product API (``/api/v1/products/``): list, create, retrieve, update, deactivate.

Each method parses its input with a nested serializer, makes one service or selector call and
answers with the product's output shape. Only staff holding the Django model permission for the
method get in (``catalog.api_permissions``); the schema at ``/api/schema/`` is built from the
``extend_schema`` annotations here.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import IntegrityError
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api_permissions import IsStaffWithModelPermission
from catalog.models import Category, Product
from catalog.services import CatalogError
from shopcart.core.money import ERROR_PRICE_TOO_HIGH, ERROR_STOCK_TOO_HIGH, PRICE_MAX, STOCK_MAX

ERROR_PRODUCT_NOT_FOUND = "There is no product with this id."
ERROR_CATEGORY_UNKNOWN = "There is no category with the slug “{value}”."
ERROR_PRICE_NEGATIVE = "The price cannot be negative."
ERROR_PRICE_DECIMAL_PLACES = "A price has at most 2 decimal places."
ERROR_STOCK_NEGATIVE = "Stock cannot be negative."
ERROR_CATALOG_CONFLICT = "Another change to the catalog got there first; send the request again."

SEARCH_MAX_LENGTH = 100

EXAMPLE_INPUT = {
    "name": "Oat milk 1 l",
    "price": "1.99",
    "stock": 24,
    "barcodes": ["036602301467"],
    "category": "dairy",
    "description": "Barista edition.",
    "active": True,
}
EXAMPLE_OUTPUT = {
    "id": 42,
    "name": "Oat milk 1 l",
    "slug": "oat-milk-1-l",
    "description": "Barista edition.",
    "category": {"slug": "dairy", "name": "Dairy"},
    "price": "1.99",
    "stock": 24,
    "active": True,
    "barcodes": ["00036602301467"],
    "image": None,
    "created_at": "2025-01-31T09:30:00Z",
    "updated_at": "2025-01-31T09:30:00Z",
}


class CatalogConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = ERROR_CATALOG_CONFLICT
    default_code = "conflict"


class ProductPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema_serializer(component_name="ProductCategory")
class ProductCategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


@extend_schema_serializer(component_name="Product")
class ProductOutputSerializer(serializers.Serializer):
    """What every product endpoint answers with."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    category = ProductCategorySerializer(allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    stock = serializers.IntegerField()
    active = serializers.BooleanField()
    barcodes = serializers.SerializerMethodField(help_text="Canonical GTIN-14s.")
    image = serializers.ImageField(allow_null=True, help_text="Absolute URL, or null.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_barcodes(self, product: Product) -> list[str]:
        # .all() so the selector's prefetch serves every product of a page in one query.
        return [barcode.gtin for barcode in product.barcodes.all()]


@extend_schema_serializer(component_name="ProductInput")
class ProductInputSerializer(serializers.Serializer):
    """What a product write accepts. Left-out optional fields take the service's defaults."""

    name = serializers.CharField(max_length=200)
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=PRICE_MAX,  # bounded so that no cart can overflow a total (shopcart.core.money)
        error_messages={
            "min_value": ERROR_PRICE_NEGATIVE,
            "max_value": ERROR_PRICE_TOO_HIGH,
            "max_decimal_places": ERROR_PRICE_DECIMAL_PLACES,
        },
    )
    stock = serializers.IntegerField(
        min_value=0,
        max_value=STOCK_MAX,
        required=False,
        error_messages={"min_value": ERROR_STOCK_NEGATIVE, "max_value": ERROR_STOCK_TOO_HIGH},
    )
    barcodes = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        help_text="Any GS1 form (EAN-13, UPC-A, UPC-E, EAN-8, GTIN-14); stored as GTIN-14.",
    )
    category = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        allow_null=True,
        required=False,
        error_messages={"does_not_exist": ERROR_CATEGORY_UNKNOWN},
        help_text="A category slug, or null.",
    )
    description = serializers.CharField(allow_blank=True, required=False)
    active = serializers.BooleanField(required=False)


@extend_schema_serializer(component_name="ProductReplaceInput")
class ProductReplaceInputSerializer(ProductInputSerializer):
    """PUT replaces the whole product, so it must send every field; PATCH sends any subset."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            field.required = True
        return fields


def _product_get_or_404(product_id: int) -> Product:
    product = selectors.product_search(include_inactive=True).filter(pk=product_id).first()
    if product is None:
        raise NotFound(ERROR_PRODUCT_NOT_FOUND)
    return product


@contextmanager
def _catalog_write_errors() -> Iterator[None]:
    """A refused write answers 400 under the field at fault; a lost unique race answers 409."""
    try:
        yield
    except CatalogError as exc:
        raise ValidationError({exc.field or api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]}) from exc
    except IntegrityError as exc:
        # Another request took the same barcode or slug between our check and our insert.
        raise CatalogConflict() from exc


NOT_FOUND = OpenApiResponse(description="No such product.")
CONFLICT = OpenApiResponse(description="Another product took this barcode or slug meanwhile.")
FIELD_ERRORS = OpenApiResponse(description="A list of messages under each field at fault.")


class ProductListCreateApi(APIView):
    permission_classes = [IsStaffWithModelPermission]
    permission_model = Product
    pagination_class = ProductPagination

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=SEARCH_MAX_LENGTH,
            help_text="Part of the name, or a barcode in any GS1 form.",
        )
        category = serializers.CharField(required=False, max_length=100, help_text="Slug.")
        # allow_null: a query string without ``active`` means "both"; DRF would read False.
        active = serializers.BooleanField(required=False, allow_null=True)

    InputSerializer = ProductInputSerializer
    OutputSerializer = ProductOutputSerializer

    @extend_schema(
        tags=["products"],
        summary="List products (staff)",
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer(many=True),
            400: FIELD_ERRORS,
            404: OpenApiResponse(description="No such page."),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        active = filters.validated_data.get("active")
        products = selectors.product_search(
            query=filters.validated_data.get("search", ""),
            category_slug=filters.validated_data.get("category", ""),
            include_inactive=active is not True,
        )
        if active is False:
            products = products.filter(active=False)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(products, request, view=self)
        output = self.OutputSerializer(page, many=True, context={"request": request})
        return paginator.get_paginated_response(output.data)

    @extend_schema(
        tags=["products"],
        summary="Create a product (staff)",
        request=InputSerializer,
        responses={201: OutputSerializer, 400: FIELD_ERRORS, 409: CONFLICT},
        examples=[
            OpenApiExample("Oat milk", value=EXAMPLE_INPUT, request_only=True),
            OpenApiExample(
                "Created", value=EXAMPLE_OUTPUT, response_only=True, status_codes=["201"]
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _catalog_write_errors():
            product = services.product_create(**serializer.validated_data)
        output = self.OutputSerializer(product, context={"request": request})
        location = reverse("catalog-api:product_detail", kwargs={"id": product.pk})
        return Response(
            output.data,
            status=status.HTTP_201_CREATED,
            headers={"Location": request.build_absolute_uri(location)},
        )


class ProductDetailApi(APIView):
    """Retrieve, replace (PUT), change (PATCH) or deactivate (DELETE) one product."""

    permission_classes = [IsStaffWithModelPermission]
    permission_model = Product

    InputSerializer = ProductReplaceInputSerializer
    OutputSerializer = ProductOutputSerializer

    @extend_schema(
        tags=["products"],
        summary="Retrieve a product (staff)",
        responses={200: OutputSerializer, 404: NOT_FOUND},
        examples=[OpenApiExample("Oat milk", value=EXAMPLE_OUTPUT, response_only=True)],
    )
    def get(self, request: Request, id: int) -> Response:
        product = _product_get_or_404(id)
        return Response(self.OutputSerializer(product, context={"request": request}).data)

    @extend_schema(
        tags=["products"],
        summary="Replace a product (staff)",
        description="Every field must be sent; `barcodes` replaces the product's barcode list.",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: CONFLICT},
        examples=[OpenApiExample("Oat milk", value=EXAMPLE_INPUT, request_only=True)],
    )
    def put(self, request: Request, id: int) -> Response:
        return self._update(request, id, partial=False)

    @extend_schema(
        tags=["products"],
        summary="Change some fields of a product (staff)",
        description="Only the fields sent change; `barcodes`, when sent, replaces the list.",
        request=InputSerializer(partial=True),
        responses={200: OutputSerializer, 400: FIELD_ERRORS, 404: NOT_FOUND, 409: CONFLICT},
        examples=[OpenApiExample("New price", value={"price": "2.49"}, request_only=True)],
    )
    def patch(self, request: Request, id: int) -> Response:
        return self._update(request, id, partial=True)

    @extend_schema(
        tags=["products"],
        summary="Deactivate a product (staff)",
        description="The product stays (orders keep their history) with `active` false.",
        responses={204: None, 404: NOT_FOUND},
    )
    def delete(self, request: Request, id: int) -> Response:
        services.product_deactivate(product=_product_get_or_404(id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request: Request, product_id: int, *, partial: bool) -> Response:
        product = _product_get_or_404(product_id)
        serializer = self.InputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with _catalog_write_errors():
            services.product_update(product=product, **serializer.validated_data)
        # Read again: the barcodes prefetched before the update are stale.
        product = _product_get_or_404(product_id)
        return Response(self.OutputSerializer(product, context={"request": request}).data)
