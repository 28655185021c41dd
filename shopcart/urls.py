"""Top-level URLs: the shop, the admin, the APIs and their documentation."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from shopcart.core import health
from shopcart.staff import dashboard, web_app

admin.site.site_header = "smartcart store admin"
admin.site.site_title = "smartcart admin"
admin.site.index_title = "Run the store"
# Staff sign in through allauth like everyone else: email, password, then the authenticator
# code when they have one (shopcart/core/staff_mfa.py makes store managers set one up).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("manifest.webmanifest", web_app.manifest, name="web-manifest"),
    path("", include("catalog.urls")),
    path("accounts/", include("allauth.urls")),
    path("cart/pairing/", include("devices.urls")),
    path("cart/", include("carts.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("orders.payment_urls")),
    path("staff/", include("orders.staff_urls")),
    path("admin/dashboard/", admin.site.admin_view(dashboard.dashboard), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("catalog.api_urls")),
    path("api/v1/cart/", include("carts.api_urls")),
    path("api/devices/v1/", include("devices.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# The shop's own error pages for people, JSON for API clients (shopcart/core/errors.py).
handler400 = "shopcart.core.errors.bad_request"
handler403 = "shopcart.core.errors.permission_denied"
handler404 = "shopcart.core.errors.page_not_found"
# An exception raised in a middleware: 503 when the database is away, else the 500 page.
handler500 = "shopcart.core.db_outage.server_error"
