"""After the load: does the store's database (and its mail) agree with what the carts and
shoppers were told? Runs in this process, on the stack's database."""

import re
import time
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

from benchmarks.scan_load.load import lines_check
from benchmarks.store_load.shoppers import Shopper

EMAIL_WAIT_S = 120.0  # the Celery worker sends confirmations from the outbox, after the run
ORDER_NUMBER_IN_SUBJECT = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


def carts_audit(shoppers: list[Shopper]) -> list[str]:
    """Every open cart holds exactly what its device's answers said."""
    return lines_check([shopper.cart for shopper in shoppers])


def orders_audit(shoppers: list[Shopper]) -> list[str]:
    """Every checkout is one paid order holding what the device put in that cart; no other
    order exists for these shoppers."""
    from orders.models import Order, OrderLine

    expected = {number: lines for shopper in shoppers for number, lines in shopper.orders}
    abandoned = Counter({shopper.cart.user_id: shopper.checkouts_abandoned for shopper in shoppers})
    users = list(abandoned)
    rows = Order.objects.filter(user_id__in=users).values_list("number", "status", "user_id")
    orders = {number: status for number, status, _ in rows}
    problems = [f"order {n}: no such order" for n in sorted(expected.keys() - orders.keys())]
    for number, status, user_id in sorted(rows):
        if number in expected:
            continue
        if status == Order.Status.CANCELLED and abandoned[user_id] > 0:
            abandoned[user_id] -= 1  # a checkout that failed and went back to the cart
        else:
            problems.append(f"order {number}: {status}, nobody checked it out")
    found: dict[str, Counter[int]] = {number: Counter() for number in expected}
    lines_found = OrderLine.objects.filter(order__number__in=list(expected)).values_list(
        "order__number", "product_id", "quantity"
    )
    for number, product_id, quantity in lines_found:
        found[number][product_id] += quantity
    for number, lines in sorted(expected.items()):
        if orders.get(number) not in (None, Order.Status.PAID):
            problems.append(f"order {number}: {orders[number]}, not paid")
        if found[number] != lines:
            problems.append(f"order {number}: lines {dict(found[number])}, expected {dict(lines)}")
    return problems


def emails_audit(shoppers: list[Shopper], mail_dir: Path) -> tuple[list[str], float]:
    """Each paid order's confirmation, exactly once (waiting for the worker to finish sending);
    and the seconds waited."""
    from orders.models import Order

    numbers = {number for shopper in shoppers for number, _ in shopper.orders}
    paid = set(
        Order.objects.filter(number__in=numbers, paid_at__isnull=False).values_list(
            "number", flat=True
        )
    )
    started = time.monotonic()
    while True:
        sent = _confirmations(mail_dir, paid)
        if paid <= sent.keys() or time.monotonic() - started > EMAIL_WAIT_S:
            break
        time.sleep(1)
    waited = time.monotonic() - started
    problems = [f"order {n}: no confirmation email" for n in sorted(paid - sent.keys())]
    problems += [
        f"order {n}: {count} confirmation emails" for n, count in sorted(sent.items()) if count > 1
    ]
    return problems, waited


def _confirmations(mail_dir: Path, numbers: set[str]) -> Counter[str]:
    """How many emails under ``mail_dir`` name each of ``numbers`` in their subject."""
    parser = BytesHeaderParser()
    sent: Counter[str] = Counter()
    for path in mail_dir.glob("*.eml"):
        with path.open("rb") as file:
            subject = str(parser.parse(file).get("Subject", ""))
        sent.update(n for n in ORDER_NUMBER_IN_SUBJECT.findall(subject) if n in numbers)
    return sent


def stock_now(product_ids: list[int]) -> dict[int, int]:
    """Each product's recorded stock now: the run's starting point for ``stock_audit``."""
    from catalog.models import Product

    return dict(Product.objects.filter(pk__in=product_ids).values_list("pk", "stock"))


def stock_audit(initial: dict[int, int]) -> list[str]:
    """Each product's stock went down by exactly the units its paid orders took (and the ones
    still pending hold)."""
    from django.db.models import Sum

    from orders.models import Order, OrderLine

    holding = [Order.Status.PAID, Order.Status.PENDING]
    taken = dict(
        OrderLine.objects.filter(order__status__in=holding, product_id__in=list(initial))
        .values("product_id")
        .annotate(units=Sum("stock_taken"))
        .values_list("product_id", "units")
    )
    sold = dict(
        OrderLine.objects.filter(order__status=Order.Status.PAID, product_id__in=list(initial))
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    problems = []
    stock = stock_now(list(initial))
    for product_id, before in sorted(initial.items()):
        gone = before - stock[product_id]
        if gone != taken.get(product_id, 0) or taken.get(product_id, 0) != sold.get(product_id, 0):
            problems.append(
                f"product {product_id}: stock down by {gone}, orders took "
                f"{taken.get(product_id, 0)}, paid orders sold {sold.get(product_id, 0)}"
            )
    return problems
