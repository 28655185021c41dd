"""JSON from outside the store, parsed within bounds: every API body and every webhook.

Python's ``json`` recurses once per level of nesting, so two kilobytes of ``[`` end in
``RecursionError``: a 500 instead of the 400 each endpoint documents. ``json_loads`` measures
the nesting first, in one pass over the text that skips strings and never recurses, and
refuses a document nested deeper than ``JSON_DEPTH_MAX`` before ``json.loads`` sees it. Then
it refuses a document holding text the database cannot store (``shopcart.core.storable_text``).

``BoundedJSONParser`` does both for DRF: it is every API view's parser (``REST_FRAMEWORK`` in
the settings), answering DRF's 400 ``{"detail": ...}``. The device API, which reads its bodies
without DRF (``devices/api.py``), calls ``json_loads`` itself and answers the same.
"""

import json
import re
from array import array
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from shopcart.core.storable_text import ERROR_SURROGATE, text_storable

# Levels of arrays and objects one inside another. The store's own bodies need 2 or 3, a
# Stripe event under 10.
JSON_DEPTH_MAX = 32

ERROR_TOO_DEEP = f"The JSON is nested more than {JSON_DEPTH_MAX} levels deep."
ERROR_CHARSET = 'Unsupported charset "{charset}" in request Content-Type header.'

# A string, to its closing quote or to the end of an unterminated one (so that no quote starts
# a scan twice).
_STRINGS = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# Each opening bracket one level down (+1), each closing one up (-1, as a signed byte).
_LEVEL_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class JsonInputError(ValueError):
    """JSON refused before or after decoding: nested too deep, or text that cannot be stored."""


def json_depth_exceeds(text: str, limit: int = JSON_DEPTH_MAX) -> bool:
    """True when arrays and objects in ``text`` nest more than ``limit`` levels deep.

    The depth is the highest running count of opening minus closing brackets outside
    strings, which is how deep ``json.loads`` would recurse, also into malformed text. Text
    with at most ``limit`` opening brackets is answered at once; for other text, strings and
    everything but brackets are cut out and the running count taken, each step in C, so even
    megabytes of brackets cost a fraction of a second.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    outside_strings = _STRINGS.sub("", text).encode("utf-8", "surrogatepass")
    steps = array("b", outside_strings.translate(_LEVEL_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0) > limit


def _strings(data: Any) -> Iterator[str]:
    """Every key and string value in decoded JSON, without recursion."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def json_loads(text: str | bytes, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``text`` decoded (bytes as UTF-8, as JSON is sent). Raises ``ValueError`` when it is
    not JSON, and its subclass ``JsonInputError`` when it nests too deep or holds a surrogate.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if json_depth_exceeds(text):
        raise JsonInputError(ERROR_TOO_DEEP)
    data = json.loads(text, parse_constant=parse_constant)
    # A surrogate in the result comes from a \u escape or from the text itself.
    if ("\\u" in text or not text_storable(text)) and not all(map(text_storable, _strings(data))):
        raise JsonInputError(ERROR_SURROGATE)
    return data


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, with ``json_loads``'s limits: refusals are DRF's ``ParseError``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        parse_constant = strict_constant if self.strict else None
        try:
            # bytes.decode() takes text encodings only, never a decompressor such as bz2_codec.
            text = stream.read().decode(encoding)
            return json_loads(text, parse_constant=parse_constant)
        except LookupError:
            raise ParseError(ERROR_CHARSET.format(charset=encoding)) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
