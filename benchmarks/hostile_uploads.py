"""Bad uploads to the scan endpoint: each must be refused with a 4xx, and quickly.

    .venv/bin/python -m benchmarks.hostile_uploads [--repeat 20]

A cart (or something pretending to be one) can send anything. Each upload below goes to
``POST /api/devices/v1/scans/`` from a registered, paired device, through Django's test client
in this process (the whole server-side handling, no network), ``--repeat`` times after one
warm-up: truncated JPEG, a PNG decompression bomb, an image header claiming 20,000 x 20,000
pixels, a GIF (wrong content type), text that is not base64, and 2 MiB bodies (raw and JSON).

Builds a throwaway SQLite database in a temporary directory (the environment's
``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` are ignored). Target: every answer
4xx, p95 ≤ 50 ms each. Prints a table, then one JSON line; exits 1 on a miss.
"""

import argparse
import base64
import io
import json
import statistics
import struct
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.cart_requests import django_setup

TARGET_P95_MS = 50.0
URL = "/api/devices/v1/scans/"


@dataclass(frozen=True)
class Result:
    upload: str
    size_bytes: int
    statuses: list[int]
    median_ms: float
    p95_ms: float

    @property
    def ok(self) -> bool:
        return all(400 <= code < 500 for code in self.statuses) and self.p95_ms <= TARGET_P95_MS


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, pixels: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """A 10,000 x 10,000 grey PNG of zeros: about 100 KB on the wire, 100 MB once decoded."""
    side = 10_000
    compressor = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png(side, side, data)


def jpeg_truncated() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "white").save(buffer, format="JPEG", quality=12)
    return buffer.getvalue()[: len(buffer.getvalue()) // 3]


def gif() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="GIF")
    return buffer.getvalue()


def json_scan(**fields: Any) -> tuple[bytes, str]:
    body = {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, **fields}
    return json.dumps(body).encode(), "application/json"


def image_json(data: bytes) -> tuple[bytes, str]:
    return json_scan(image=base64.b64encode(data).decode("ascii"))


def uploads() -> dict[str, Callable[[], tuple[bytes, str]]]:
    """Each bad upload as (body, content type); built afresh per request (new scan ids)."""
    bomb, truncated, gif_bytes = png_bomb(), jpeg_truncated(), gif()
    huge_header = png(20_000, 20_000, zlib.compress(b"\0" * 1024))
    two_mib = b"\xff\xd8\xff\xe0" + b"\0" * (2 * 1024 * 1024)
    return {
        "truncated JPEG (JSON)": lambda: image_json(truncated),
        "truncated JPEG (raw)": lambda: (truncated, "image/jpeg"),
        "PNG bomb 10k x 10k (JSON)": lambda: image_json(bomb),
        "header 20k x 20k (JSON)": lambda: image_json(huge_header),
        "GIF, wrong type (raw)": lambda: (gif_bytes, "image/gif"),
        "GIF inside JSON": lambda: image_json(gif_bytes),
        "not base64 (JSON)": lambda: json_scan(image="this is not base64!"),
        "2 MiB body (raw)": lambda: (two_mib, "image/jpeg"),
        "2 MiB body (JSON)": lambda: image_json(two_mib),
    }


def device_client() -> Any:
    """A registered device, paired to a shopper's cart, and a test client carrying its key."""
    from django.contrib.auth.models import User
    from django.test import Client

    from carts.services import cart_pass_issue
    from devices.services import device_pair, device_register

    shopper = User.objects.create_user(username="bench@example.com", email="bench@example.com")
    device, key = device_register(name="Bench cart")
    device_pair(device=device, cart_pass=cart_pass_issue(user=shopper))
    return Client(headers={"Authorization": f"Device {key}"})


def measure(client: Any, name: str, make: Callable[[], tuple[bytes, str]], repeat: int) -> Result:
    body, content_type = make()
    headers = {"X-Scan-Id": str(uuid.uuid4()), "X-Scan-Mode": "add"}
    client.post(URL, body, content_type=content_type, headers=headers)  # warm-up
    statuses, times = [], []
    for _ in range(repeat):
        body, content_type = make()
        headers = {"X-Scan-Id": str(uuid.uuid4()), "X-Scan-Mode": "add"}
        start = time.perf_counter()
        response = client.post(URL, body, content_type=content_type, headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        statuses.append(response.status_code)
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return Result(
        name, len(body), sorted(set(statuses)), round(statistics.median(times), 2), round(p95, 2)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="requests per upload")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smartcart-hostile-") as folder:
        print("setting up a throwaway database ...", file=sys.stderr)
        django_setup(Path(folder) / "bench.sqlite3")
        client = device_client()
        results = []
        for name, make in uploads().items():
            results.append(measure(client, name, make, args.repeat))
            print(f"  {name}: done", file=sys.stderr)
    print(f"{'upload':<28} {'bytes':>9} {'status':>10} {'median ms':>10} {'p95 ms':>8}  ok")
    for result in results:
        statuses = ",".join(map(str, result.statuses))
        print(
            f"{result.upload:<28} {result.size_bytes:>9} {statuses:>10} "
            f"{result.median_ms:>10.2f} {result.p95_ms:>8.2f}  {'yes' if result.ok else 'NO'}"
        )
    met = all(result.ok for result in results)
    print(
        f"target: every answer 4xx, p95 <= {TARGET_P95_MS:g} ms each: {'met' if met else 'MISSED'}"
    )
    summary = {
        "benchmark": "hostile_uploads",
        "repeat": args.repeat,
        "target_p95_ms": TARGET_P95_MS,
        "met": met,
        "results": [asdict(result) for result in results],
    }
    print(json.dumps(summary))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
