"""Text the database can store: no surrogate code point (U+D800 to U+DFFF) on its own.

A Python string can hold a lone surrogate (JSON's ``"\\ud800"`` escape decodes to one, and so
does a query string or form field decoded with a charset such as UTF-7 that the client names),
but UTF-8 cannot encode it: SQLite and MariaDB fail the query, and a page echoing it fails to
render. Either way the request would end in a 500. It is refused where text comes in: JSON
bodies (every API and the webhooks) in ``shopcart.json_input.json_loads``. DRF's ``CharField``
refuses surrogates too.
"""

import re

ERROR_SURROGATE = (
    "The text is not valid Unicode: it holds a surrogate code point (U+D800 to U+DFFF) on its "
    "own, which cannot be stored."
)

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_storable(value: str) -> bool:
    """False when ``value`` holds a surrogate code point, which UTF-8 cannot encode."""
    # isascii() reads a flag CPython keeps on the string: most text is never scanned.
    return value.isascii() or _SURROGATE.search(value) is None
