"""Shopper pages of the catalog: the home page with search, and a product page."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from catalog import selectors
from catalog.suggestions import product_suggestions
from catalog.tips import product_tip_get

PRODUCTS_PER_PAGE = 24


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    category_slug = request.GET.get("category", "")[:100]
    products = selectors.product_search(query=query, category_slug=category_slug)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    categories = selectors.category_list()
    context = {
        "page": page,
        "query": query,
        "category_slug": category_slug,
        "category": next((c for c in categories if c.slug == category_slug), None),
        "categories": categories,
    }
    return render(request, "catalog/product_list.html", context)


@require_safe
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = selectors.product_get_for_shoppers(slug=slug)
    if product is None:
        raise Http404("No such product.")
    context = {
        "product": product,
        "suggestions": product_suggestions(
            product_ids=[product.pk], category_ids=[product.category_id]
        ),
        "tip": product_tip_get(product=product),
    }
    return render(request, "catalog/product_detail.html", context)
