"""Shopper cart API (``/api/v1/cart/``): the signed-in shopper's own cart, read and changed.

No URL names a cart: every view works on the caller's current cart (``cart_get_for_user``), so
another shopper's cart cannot be reached by changing a number. Each answer is the whole cart
as ``cart_summary`` prices it: quantities stock no longer covers are shown as far as it
covers them (no write on a read), and ``messages`` says so, with what changed on the way.

Refused changes answer ``{"detail": <message>, "code": <CartError code>}``: 409 when the cart
is being paid for or closed, 400 otherwise. Bad input answers 400 with messages per field.

Size: kept in one module: the cart API's views with their OpenAPI descriptions (the examples are
in carts/api_examples.py).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carts import services
from carts.api_examples import CART_EXAMPLE, EXAMPLE_REFUSED
from carts.models import Cart, CartLine
from carts.selectors import CartSummary, cart_etag, cart_suggestions, cart_summary
from carts.services.carts import ERROR_COUPON_BLANK, ERROR_NOT_IN_CART, ERROR_UNAVAILABLE
from catalog.barcodes import BarcodeError, gtin_normalise
from catalog.models import Product
from catalog.selectors import product_get_by_barcode, product_search
from catalog.suggestions import (
    REASON_BOUGHT_WITH,
    REASON_POPULAR,
    REASON_POPULAR_IN_CATEGORY,
    Suggestion,
)
from shopcart.core.money import QUANTITY_MAX

ERROR_QUANTITY_INVALID = (
    'Send a whole number from 1 to 99 to set the quantity, "delete" to remove the line, '
    "or no quantity to add one."
)
ERROR_QUANTITY_TOO_SMALL = 'A quantity is at least 1. To remove the line, send "delete".'
ERROR_QUANTITY_TOO_LARGE = "A quantity is at most 99."
ERROR_TARGET_MISSING = 'Say which product: send "product" (its id), "barcode" or "line".'
ERROR_TARGET_SEVERAL = 'Send only one of "product", "barcode" and "line".'
ERROR_PRODUCT_UNKNOWN = "There is no product with this id."
ERROR_BARCODE_UNKNOWN = "No product carries this barcode."
ERROR_LINE_UNKNOWN = "Your cart has no line with this id."
ERROR_LABELLED_LINE = (
    "“{product}” was priced by its in-store label: scan another pack on the cart to add it, "
    'or send "delete" to remove the line.'
)

QUANTITY_DELETE: Final = "delete"
TARGET_FIELDS = ("product", "barcode", "line")
ID_MAX = 2**63 - 1  # the largest key every supported database stores; more would not be a key
_WHOLE_NUMBER = re.compile(r"-?\d+")


# --- Output -----------------------------------------------------------------------------------


@extend_schema_serializer(component_name="ShopperCartLineLabel")
class CartLineLabelOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="line.label_code", help_text="The label's GTIN-14.")
    text = serializers.CharField(
        source="label", help_text='What it says beyond the price ("0.412 kg"); may be empty.'
    )


@extend_schema_serializer(component_name="ShopperCartLine")
class CartLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line.pk")
    product = serializers.IntegerField(
        source="line.product_id", allow_null=True, help_text="Null once deleted from the catalog."
    )
    name = serializers.CharField(source="line.product_name")
    slug = serializers.CharField(source="line.product.slug", allow_null=True)
    unit_price = serializers.DecimalField(source="line.unit_price", max_digits=10, decimal_places=2)
    quantity = serializers.IntegerField(help_text="As held: lowered to what stock covers.")
    scanned_quantity = serializers.IntegerField(
        source="line.scanned_quantity", help_text="The part scanned in the store."
    )
    instore_label = CartLineLabelOutputSerializer(
        source="*",
        required=False,
        help_text="Only on a line of packs scanned by their in-store price or weight label.",
    )
    status = serializers.ChoiceField(choices=["ok", "unavailable", "out_of_stock"])
    note = serializers.CharField(help_text="Why the line is not counted; empty when it is.")
    subtotal = serializers.DecimalField(source="price.subtotal", max_digits=10, decimal_places=2)
    discount = serializers.DecimalField(source="price.discount", max_digits=10, decimal_places=2)
    total = serializers.DecimalField(source="price.total", max_digits=10, decimal_places=2)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not instance.line.is_labelled:
            del data["instore_label"]
        return data


@extend_schema_serializer(component_name="ShopperCartCoupon")
class CartCouponOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    applied = serializers.BooleanField()
    problem = serializers.CharField(help_text="Why the coupon takes nothing off; empty if it does.")


@extend_schema_serializer(component_name="CartSuggestion")
class CartSuggestionOutputSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk", help_text="Add it by this id.")
    name = serializers.CharField(source="product.name")
    slug = serializers.CharField(source="product.slug")
    price = serializers.DecimalField(source="product.price", max_digits=10, decimal_places=2)
    reason = serializers.ChoiceField(
        choices=[REASON_BOUGHT_WITH, REASON_POPULAR_IN_CATEGORY, REASON_POPULAR],
        help_text="Often bought with the cart's products, or a best seller of their "
        "categories or of the store.",
    )


@extend_schema_serializer(component_name="ShopperCart")
class CartOutputSerializer(serializers.Serializer):
    """What every cart endpoint answers with. Money is a decimal string in ``currency``."""

    version = serializers.IntegerField(source="cart.version")
    status = serializers.ChoiceField(source="cart.status", choices=Cart.Status.choices)
    currency = serializers.SerializerMethodField()
    lines = CartLineOutputSerializer(many=True)
    coupon = serializers.SerializerMethodField()
    subtotal = serializers.DecimalField(source="price.subtotal", max_digits=10, decimal_places=2)
    discount = serializers.DecimalField(source="price.discount", max_digits=10, decimal_places=2)
    total = serializers.DecimalField(source="price.total", max_digits=10, decimal_places=2)
    item_count = serializers.IntegerField(help_text="Items counted in the total.")
    can_check_out = serializers.BooleanField()
    messages = serializers.SerializerMethodField(help_text="What changed, for the shopper.")
    suggestions = serializers.SerializerMethodField(
        help_text="Products to suggest (in stock, not in the cart), best first."
    )

    def get_currency(self, summary: CartSummary) -> str:
        return settings.STORE_CURRENCY

    @extend_schema_field(CartCouponOutputSerializer(allow_null=True))
    def get_coupon(self, summary: CartSummary) -> dict[str, Any] | None:
        coupon = summary.cart.coupon
        if coupon is None:
            return None
        applied, problem = summary.price.coupon_applied, summary.price.coupon_problem
        return {"code": coupon.code, "applied": applied, "problem": problem}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_messages(self, summary: CartSummary) -> list[str]:
        return list(self.context.get("messages", ()))

    @extend_schema_field(CartSuggestionOutputSerializer(many=True))
    def get_suggestions(self, summary: CartSummary) -> list[dict[str, Any]]:
        suggestions: list[Suggestion] = self.context.get("suggestions", [])
        return CartSuggestionOutputSerializer(suggestions, many=True).data  # type: ignore[return-value]


def _etag_matches(request: Request, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    sent = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in sent or etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in sent}


def _cart_response(request: Request, cart: Cart, messages: Sequence[str] = ()) -> Response:
    """The cart as it is now, with ``messages``; 304 to a GET that already holds this state."""
    summary = cart_summary(cart=cart)
    messages = (*messages, *summary.notices)
    suggestions = cart_suggestions(summary)
    context = {"messages": messages, "suggestions": suggestions}
    body = CartOutputSerializer(summary, context=context).data
    etag = cart_etag(summary, suggestions)
    if request.method in ("GET", "HEAD") and _etag_matches(request, etag):
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
    else:
        response = Response(body)
    response["ETag"] = etag
    # Private to the shopper, and always asked for again (cheaply, with If-None-Match).
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Cookie", "Authorization"])
    return response


def _shopper_cart(request: Request) -> Cart:
    user: User = request.user  # type: ignore[assignment]  # IsAuthenticated let it through
    return services.cart_get_for_user(user=user)


# --- Input ------------------------------------------------------------------------------------

Quantity = int | Literal["delete"] | None  # None: add one


def cart_quantity_parse(value: object) -> Quantity:
    """The API's quantity: empty adds one, N sets N, "delete" removes the line.

    Raises ``ValidationError`` for anything else: zero, negative, above 99, fractions, other
    strings, booleans, lists.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lower() == QUANTITY_DELETE:
        return QUANTITY_DELETE
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(ERROR_QUANTITY_INVALID)
    if value < 1:
        raise ValidationError(ERROR_QUANTITY_TOO_SMALL)
    if value > QUANTITY_MAX:
        raise ValidationError(ERROR_QUANTITY_TOO_LARGE)
    return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": QUANTITY_MAX},
            {"type": "string", "enum": [QUANTITY_DELETE]},
        ],
        "nullable": True,
        "description": 'Left out, null or "": add one. 1 to 99: set the quantity. '
        '"delete": remove the line.',
    }
)
class CartQuantityField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: object) -> Quantity:
        return cart_quantity_parse(data)

    def to_representation(self, value: Quantity) -> Quantity:
        return value


@extend_schema_serializer(component_name="CartLineChange")
class CartLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(
        required=False, min_value=1, max_value=ID_MAX, help_text="A product id."
    )
    barcode = serializers.CharField(
        required=False,
        max_length=32,
        help_text="Any GS1 form: EAN-13, UPC-A, UPC-E, EAN-8, GTIN-14.",
    )
    line = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=ID_MAX,
        help_text="A line id of your cart; the way to remove a line whose product is gone.",
    )
    quantity = CartQuantityField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in TARGET_FIELDS if name in attrs]
        if not given:
            raise ValidationError(ERROR_TARGET_MISSING)
        if len(given) > 1:
            raise ValidationError(ERROR_TARGET_SEVERAL)
        return attrs


@extend_schema_serializer(component_name="CartCouponApply")
class CartCouponInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=100,
        error_messages={"required": ERROR_COUPON_BLANK, "blank": ERROR_COUPON_BLANK},
    )


@dataclass(frozen=True)
class LineTarget:
    """What a line change is about: a product, or a line whose product left the catalog."""

    product: Product | None
    line: CartLine | None = None


def _line_target(cart: Cart, data: dict[str, Any]) -> LineTarget:
    """Resolve the input's product, barcode or line; 400 under that field when nothing matches."""
    if "product" in data:
        product = product_search(include_inactive=True).filter(pk=data["product"]).first()
        if product is None:
            raise ValidationError({"product": [ERROR_PRODUCT_UNKNOWN]})
        return LineTarget(product=product)
    if "barcode" in data:
        try:
            gtin_normalise(data["barcode"])
        except BarcodeError as exc:
            raise ValidationError({"barcode": [str(exc)]}) from exc
        product = product_get_by_barcode(text=data["barcode"])
        if product is None:
            raise ValidationError({"barcode": [ERROR_BARCODE_UNKNOWN]})
        return LineTarget(product=product)
    # Looked up in the caller's own cart only: another shopper's line id finds nothing.
    line = cart.lines.select_related("product").filter(pk=data["line"]).first()
    if line is None:
        raise ValidationError({"line": [ERROR_LINE_UNKNOWN]})
    return LineTarget(product=line.product, line=line)


def _line_change(cart: Cart, target: LineTarget, quantity: Quantity) -> services.CartChange:
    """Apply the API's quantity to the line. Raises ``CartError``."""
    product = target.product
    if product is None:  # a line whose product was deleted can only be removed
        assert target.line is not None
        if quantity != QUANTITY_DELETE:
            message = ERROR_UNAVAILABLE.format(product=target.line.product_name)
            raise services.CartError(message, code=services.CartErrorCode.UNAVAILABLE)
        return services.cart_delete_unavailable_line(cart=cart, line_id=target.line.pk)
    if target.line is not None and target.line.is_labelled:
        if quantity != QUANTITY_DELETE:
            message = ERROR_LABELLED_LINE.format(product=target.line.product_name)
            raise services.CartError(message, code=services.CartErrorCode.LABELLED_LINE)
        return services.cart_delete_labelled_line(cart=cart, line_id=target.line.pk)
    if quantity is None:
        return services.cart_add_product(cart=cart, product=product)
    if isinstance(quantity, int):
        return services.cart_set_quantity(cart=cart, product=product, quantity=quantity)
    if not cart.lines.filter(product=product, label_code="").exists():  # "delete", not in cart
        raise services.NotInCart(ERROR_NOT_IN_CART.format(product=product.name))
    return services.cart_delete_line(cart=cart, product_id=product.pk)


@extend_schema_serializer(component_name="CartRefused")
class CartRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="For the shopper.")
    code = serializers.CharField(help_text="For programs: out_of_stock, cart_closed, ...")


# --- Views ------------------------------------------------------------------------------------

CART_RESPONSES = {
    200: CartOutputSerializer,
    401: OpenApiResponse(description="Not signed in."),
}
REFUSED_RESPONSES = {
    400: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description="Bad input: messages under each field at fault. Or the change was refused: "
        "`detail` and `code` (for example `out_of_stock`, `not_in_cart`, `coupon_expired`; "
        "past a bound: `quantity`, at most 99 of a product; `cart_full`, at most 100 "
        "products; `cart_total`, goods worth at most 999,999.99).",
        examples=[
            OpenApiExample("Refused", value=EXAMPLE_REFUSED, status_codes=["400"]),
            OpenApiExample(
                "Bad quantity", value={"quantity": [ERROR_QUANTITY_TOO_SMALL]}, status_codes=["400"]
            ),
        ],
    ),
    409: OpenApiResponse(
        response=CartRefusedSerializer,
        description="The cart is being paid for or is closed (`code`: `cart_closed`).",
    ),
}


class CartDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Your cart",
        description="Quantities the stock no longer covers are shown lowered to what it covers "
        "and `messages` says so (the next change to the cart writes them). Send the `ETag` back "
        "in `If-None-Match` to get 304 when nothing changed.",
        parameters=[
            OpenApiParameter(
                "If-None-Match", str, OpenApiParameter.HEADER, description="A previous ETag."
            )
        ],
        responses={**CART_RESPONSES, 304: OpenApiResponse(description="Unchanged; no body.")},
        examples=[CART_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        return _cart_response(request, _shopper_cart(request))


class CartLineUpdateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Add, set or remove a product in your cart",
        description="Name the product by `product` id, `barcode` or cart `line` id. `quantity` "
        'left out, null or "" adds one; a number from 1 to 99 sets the quantity (lowered to '
        'the stock, with a message); "delete" removes the line.',
        request=CartLineInputSerializer,
        responses={**CART_RESPONSES, **REFUSED_RESPONSES},
        examples=[
            OpenApiExample(
                "Add one by barcode", value={"barcode": "036602301467"}, request_only=True
            ),
            OpenApiExample(
                "Set the quantity", value={"product": 42, "quantity": 3}, request_only=True
            ),
            OpenApiExample(
                "Remove the line", value={"product": 42, "quantity": "delete"}, request_only=True
            ),
            CART_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = CartLineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = _shopper_cart(request)
        target = _line_target(cart, serializer.validated_data)
        change = _line_change(cart, target, serializer.validated_data.get("quantity"))
        return _cart_response(request, change.cart, change.messages)


class CartCouponApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["cart"],
        summary="Apply a coupon to your cart",
        description="Replaces any coupon already applied. Whether the cart qualifies (minimum "
        "subtotal, category) shows under `coupon.problem`.",
        request=CartCouponInputSerializer,
        responses={**CART_RESPONSES, **REFUSED_RESPONSES},
        examples=[
            OpenApiExample("A code", value={"code": "SPRING10"}, request_only=True),
            CART_EXAMPLE,
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = CartCouponInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.cart_apply_coupon(
            cart=_shopper_cart(request), code=serializer.validated_data["code"]
        )
        return _cart_response(request, change.cart)

    @extend_schema(
        tags=["cart"],
        summary="Remove the coupon from your cart",
        responses={**CART_RESPONSES, 409: REFUSED_RESPONSES[409]},
        examples=[CART_EXAMPLE],
    )
    def delete(self, request: Request) -> Response:
        change = services.cart_remove_coupon(cart=_shopper_cart(request))
        return _cart_response(request, change.cart)
