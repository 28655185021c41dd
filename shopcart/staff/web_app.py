"""The web app manifest: the store's name, colours and icons when a shopper adds it to a phone's
home screen. The icons themselves are static files; ``/favicon.ico`` and
``/apple-touch-icon.png``, which browsers ask for at the root, are served from ``static/root/``
(``WHITENOISE_ROOT``)."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

THEME_COLOUR = "#0b6b3a"  # --green in static/css/site.css
BACKGROUND_COLOUR = "#f6f7f5"  # --bg
MANIFEST_CONTENT_TYPE = "application/manifest+json"


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    # The icons keep the cart inside the middle 80 %: a launcher may mask them to any shape.
    icons += [{**icon, "purpose": "maskable"} for icon in icons]
    body = {
        "name": settings.STORE_NAME,
        "short_name": settings.STORE_NAME,
        "start_url": reverse("catalog:home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    return JsonResponse(body, content_type=MANIFEST_CONTENT_TYPE)
