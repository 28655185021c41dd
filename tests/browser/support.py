"""Helpers the browser tests share."""

import http.client
import json
import uuid
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse


def device_scan(live_server, device_key: str, **fields) -> dict:
    """One scan through the live server's device API over HTTP, as the cart's firmware sends it
    (a 201 answer's body)."""
    body = {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, **fields}
    address = urlsplit(live_server.url)
    # http.client rather than urllib: a proxy set in the environment must not get in the way.
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "POST",
            reverse("devices-api:scans"),
            body=json.dumps(body),
            headers={"Authorization": f"Device {device_key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
    finally:
        connection.close()
    assert response.status == 201, answer
    return answer


LIVE_WITHIN_MS = 1000


NO_HORIZONTAL_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def sign_in(page, live_server, user) -> None:
    """Give the page's browser a session of ``user`` (made by Client.force_login)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
