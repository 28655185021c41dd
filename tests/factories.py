"""factory_boy factories for the store's models. Barcodes are generated valid."""

from decimal import Decimal

import factory
from django.contrib.auth.models import User

from catalog.barcodes import gs1_check_digit
from catalog.models import Barcode, Category, Product


def valid_gtin13(n: int) -> str:
    payload = f"400{n:09d}"
    return payload + str(gs1_check_digit(payload))


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.django.Password("correct horse battery")


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("2.50")
    stock = 10


class BarcodeFactory(factory.django.DjangoModelFactory[Barcode]):
    class Meta:
        model = Barcode

    product = factory.SubFactory(ProductFactory)
    gtin = factory.Sequence(lambda n: valid_gtin13(n).zfill(14))
