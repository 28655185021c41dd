"""The staff dashboard in the admin: how the store is doing today, on one page."""

from datetime import timedelta

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from devices.selectors import (
    devices_online_count,
    fleet_health,
    scan_activity,
    unknown_codes_count,
)
from orders.selectors import sales_summary
from shopcart.core.dates import local_day_start
from shopcart.core.staff_mfa import staff_page_required

# Staff who may look at orders may see the day's figures.
DASHBOARD_PERMISSION = "orders.view_order"
HOURS_SHOWN = 12


@staff_page_required(DASHBOARD_PERMISSION)
def dashboard(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    activity = scan_activity(since=now - timedelta(hours=HOURS_SHOWN))
    online, registered = devices_online_count(now=now)
    busiest = max((count for _, count in activity.per_hour), default=0)
    context = {
        **admin.site.each_context(request),
        "title": "Store today",
        "activity": activity,
        "hours": [
            (hour, count, round(100 * count / busiest) if busiest else 0)
            for hour, count in activity.per_hour
        ],
        "hours_shown": HOURS_SHOWN,
        "carts_online": online,
        "carts_registered": registered,
        "unknown_codes": unknown_codes_count(),
        "fleet": fleet_health(since=local_day_start(now)),
        "sales": sales_summary(since=local_day_start(now)),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
