"""Helpers the browser tests share."""

import http.client
import json
import uuid
from urllib.parse import urlsplit

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
