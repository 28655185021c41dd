"""``manage.py load_demo_store``: the demo catalog and the demo accounts, safe to run again.

Rows are matched by slug (categories, products), GTIN (barcodes) and username (accounts). A row
that already holds the demo values is left alone, so a second run changes nothing; a demo row
that was edited gets its demo values back.

With the accounts comes a purchase history (paid orders ``DEMO-0001``... of a few regular
shoppers, matched by number: missing ones are created, existing ones are history and left
alone), and the recommendations are learnt from it, so the cart page suggests at once.
"""

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from catalog import demo_data
from catalog.barcodes import gtin_normalise
from catalog.models import Barcode, Category, Product, RecommendationBuild
from orders.models import Order, OrderLine, Payment
from orders.recommendations.rebuild import recommendations_rebuild
from shopcart.core.staff_mfa import totp_secret_set

ERROR_PRODUCTION = (
    "load_demo_store creates accounts with published passwords, so it refuses to run when "
    "SMARTCART_MODE=production. Use --no-accounts to load only the demo catalog."
)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

M = TypeVar("M", bound=models.Model)


def _upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> tuple[M, str]:
    """``update_or_create``, except that a row already holding ``values`` is not saved again."""
    current = model._default_manager.filter(**lookup).first()
    if current is not None and all(getattr(current, f) == v for f, v in values.items()):
        return current, UNCHANGED
    row, created = model._default_manager.update_or_create(defaults=values, **lookup)
    return row, CREATED if created else UPDATED


def _categories_load() -> dict[str, Category]:
    return {
        c.slug: _upsert(Category, {"slug": c.slug}, {"name": c.name})[0]
        for c in demo_data.CATEGORIES
    }


def _product_load(
    item: demo_data.DemoProduct, categories: dict[str, Category], barcodes: Counter[str]
) -> str:
    """Load one demo product and its barcodes (counted into ``barcodes``); returns its outcome."""
    values = {
        "name": item.name,
        "description": item.description,
        "price": Decimal(item.price),
        "stock": item.stock,
        "category_id": categories[item.category].pk,
        "active": True,
    }
    product, outcome = _upsert(Product, {"slug": item.slug}, values)
    for code in item.barcodes:
        gtin = gtin_normalise(code).gtin
        barcodes[_upsert(Barcode, {"gtin": gtin}, {"product_id": product.pk})[1]] += 1
    return outcome


def _account_load(*, email: str, password: str, is_staff: bool) -> tuple[AbstractBaseUser, str]:
    """The demo user ``email`` with ``password``; the hash is only rewritten when it differs."""
    user, outcome = _upsert(
        get_user_model(),
        {"username": email},
        {"email": email, "is_staff": is_staff, "is_active": True},
    )
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
        outcome = UPDATED if outcome == UNCHANGED else outcome
    # Sign-in requires a confirmed email address; the demo ones count as confirmed.
    address = {"verified": True, "primary": True}
    if _upsert(EmailAddress, {"user_id": user.pk, "email": email}, address)[1] != UNCHANGED:
        outcome = UPDATED if outcome == UNCHANGED else outcome
    return user, outcome


def _demo_order(demo: demo_data.DemoOrder, products: dict[str, Product], now: datetime) -> Order:
    paid_at = now - timedelta(days=demo.days_ago)
    total = sum((products[slug].price * quantity for slug, quantity in demo.lines), Decimal(0))
    return Order(
        number=demo.number,
        email=demo.email,
        cart_version=1,
        status=Order.Status.PAID,
        currency=settings.STORE_CURRENCY,
        subtotal=total,
        total=total,
        created_at=paid_at - timedelta(minutes=3),
        expires_at=paid_at + timedelta(minutes=27),
        paid_at=paid_at,
        exited_at=paid_at + timedelta(minutes=4),
    )


def _demo_lines(
    demo: demo_data.DemoOrder, products: dict[str, Product], order_id: int
) -> list[OrderLine]:
    lines = []
    for slug, quantity in demo.lines:
        product = products[slug]
        total = product.price * quantity
        barcodes = product.barcodes.all()
        lines.append(
            OrderLine(
                order_id=order_id,
                product=product,
                product_name=product.name,
                gtin=barcodes[0].gtin if barcodes else "",
                unit_price=product.price,
                quantity=quantity,
                scanned_quantity=quantity,
                subtotal=total,
                total=total,
            )
        )
    return lines


def _history_load() -> tuple[int, int]:
    """Create the demo orders not there yet, with their lines; returns (created, unchanged)."""
    history = demo_data.demo_history()
    numbers = [demo.number for demo in history]
    existing = set(Order.objects.filter(number__in=numbers).values_list("number", flat=True))
    missing = [demo for demo in history if demo.number not in existing]
    if missing:
        slugs = {slug for demo in missing for slug, _ in demo.lines}
        found = Product.objects.filter(slug__in=slugs).prefetch_related("barcodes")
        products = {product.slug: product for product in found}
        now = timezone.now()
        Order.objects.bulk_create(_demo_order(demo, products, now) for demo in missing)
        # Not every database returns the new keys from a bulk insert: look them up.
        ids = dict(Order.objects.filter(number__in=numbers).values_list("number", "pk"))
        OrderLine.objects.bulk_create(
            line for demo in missing for line in _demo_lines(demo, products, ids[demo.number])
        )
        # Paid through the built-in test gateway, as a demo order would have been.
        Payment.objects.bulk_create(
            Payment(
                order_id=ids[order.number],
                gateway=Payment.Gateway.TEST,
                external_id=f"demo-{order.number}",
                amount=order.total,
                currency=order.currency,
                status=Payment.Status.SUCCEEDED,
            )
            for order in Order.objects.filter(number__in=[demo.number for demo in missing])
        )
    return len(missing), len(existing)


def _summary(counts: Counter[str]) -> str:
    return ", ".join(f"{counts[outcome]} {outcome}" for outcome in (CREATED, UPDATED, UNCHANGED))


class Command(BaseCommand):
    help = (
        "Load the demo store: about 40 products with valid barcodes in 6 categories, a staff "
        "account, a shopper account and a purchase history to learn recommendations from. "
        "Idempotent; demo rows get their demo values back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-accounts",
            action="store_true",
            help="Load only the catalog; create no accounts (allowed in production).",
        )

    def handle(self, *args: Any, no_accounts: bool = False, **options: Any) -> None:
        if settings.PRODUCTION and not no_accounts:
            raise CommandError(ERROR_PRODUCTION)
        with transaction.atomic(durable=True):
            self._catalog_load()
            if not no_accounts:
                self._accounts_load()
                created = self._history_report(*_history_load())
        if not no_accounts:
            self._recommendations_build(stale=created > 0)
        self._urls_print(demo_cart=not no_accounts)

    def _catalog_load(self) -> None:
        categories = _categories_load()
        products: Counter[str] = Counter()
        barcodes: Counter[str] = Counter()
        for item in demo_data.PRODUCTS:
            products[_product_load(item, categories, barcodes)] += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(demo_data.PRODUCTS)} products in {len(categories)} categories; "
                f"products: {_summary(products)}; barcodes: {_summary(barcodes)}."
            )
        )

    def _accounts_load(self) -> None:
        managers, _ = Group.objects.get_or_create(name=demo_data.STORE_MANAGER_GROUP)
        accounts = [
            ("Staff", demo_data.DEMO_STAFF_EMAIL, demo_data.DEMO_STAFF_PASSWORD, True),
            ("Shopper", demo_data.DEMO_SHOPPER_EMAIL, demo_data.DEMO_SHOPPER_PASSWORD, False),
        ]
        self.stdout.write("Demo accounts (email / password):")
        users = {}
        for role, email, password, is_staff in accounts:
            user, outcome = _account_load(email=email, password=password, is_staff=is_staff)
            if is_staff:
                user.groups.add(managers)  # type: ignore[attr-defined]
            self.stdout.write(f"  {role + ':':9}{email} / {password}  ({outcome})")
            users[role] = user
        self._staff_totp_load(users["Staff"])

    def _history_report(self, created: int, unchanged: int) -> int:
        self.stdout.write(
            f"Purchase history: {created + unchanged} paid orders of "
            f"{len(demo_data.DEMO_SHOPPERS)} regular shoppers; {created} created, "
            f"{unchanged} unchanged."
        )
        return created

    def _recommendations_build(self, *, stale: bool) -> None:
        """Learn "often bought with" from the history, unless nothing changed since last time."""
        if not stale and RecommendationBuild.objects.exists():
            self.stdout.write("Recommendations: up to date.")
            return
        build = recommendations_rebuild()
        self.stdout.write(
            f"Recommendations: learnt from {build.orders} paid orders "
            f"({build.pairs} neighbour rows)."
        )

    def _staff_totp_load(self, staff: AbstractBaseUser) -> None:
        """Store managers must use two-factor: give the demo one a published TOTP secret."""
        secret = demo_data.DEMO_STAFF_TOTP_SECRET
        outcome = totp_secret_set(user=staff, secret=secret)
        uri = get_mfa_adapter().build_totp_url(staff, secret)
        self.stdout.write(f"Staff two-factor (a code after the password; demo secret, {outcome}):")
        self.stdout.write("  code now:           python manage.py demo_totp_code")
        self.stdout.write(f"  authenticator app:  {secret}")
        self.stdout.write(f"                      {uri}")

    def _urls_print(self, *, demo_cart: bool) -> None:
        """The store's addresses: SITE_URL, which follows make run's HOST and PORT."""
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write(f"Shop:     {site}{reverse('catalog:home')}")
        self.stdout.write(f"Admin:    {site}{reverse('admin:index')}")
        self.stdout.write(f"API docs: {site}{reverse('api-docs')}")
        if demo_cart:
            # Spelled out: a second terminal may not have make run's PORT.
            self.stdout.write(
                f"A cart scanning into alice's cart ({site}{reverse('carts:detail')}): "
                f"python manage.py simulate_cart --demo --server {site}"
            )
