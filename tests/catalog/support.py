"""Helpers shared by the catalog tests and others: the product admin form."""

from django.urls import reverse

ADD = reverse("admin:catalog_product_add")


def add_form_data(**overrides) -> dict:
    data = {
        "name": "Oat milk",
        "slug": "oat-milk",
        "category": "",
        "price": "1.99",
        "stock": "12",
        "active": "on",
        "description": "",
        "barcodes-TOTAL_FORMS": "1",
        "barcodes-INITIAL_FORMS": "0",
        "barcodes-MIN_NUM_FORMS": "0",
        "barcodes-MAX_NUM_FORMS": "1000",
        "barcodes-0-gtin": "",
    }
    data.update(overrides)
    return data
