"""What a refused device request answers: its message and the request's id (also a header)."""

from typing import Any


def refusal(response: Any, detail: str) -> dict[str, str]:
    return {"detail": detail, "request_id": response["X-Request-ID"]}
