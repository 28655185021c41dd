"""JSON from outside: nesting measured without recursion, surrogates refused, DRF's parser."""

import io
import json
import random
import time

import pytest
from rest_framework.exceptions import ParseError

from shopcart.core.json_input import (
    ERROR_TOO_DEEP,
    JSON_DEPTH_MAX,
    BoundedJSONParser,
    JsonInputError,
    json_depth_exceeds,
    json_loads,
)
from shopcart.core.storable_text import ERROR_SURROGATE


def nested(depth: int, inner: str = "1") -> str:
    """``depth`` levels of alternating arrays and objects around ``inner``."""
    text = inner
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"k": {text}}}'
    return text


def depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def test_the_limit_is_allowed_one_more_level_is_not():
    assert json_loads(nested(JSON_DEPTH_MAX)) is not None
    with pytest.raises(JsonInputError, match=ERROR_TOO_DEEP):
        json_loads(nested(JSON_DEPTH_MAX + 1))


@pytest.mark.parametrize(
    "bomb",
    [
        "[" * 1_000 + "]" * 1_000,
        '{"a":' * 1_000 + "1" + "}" * 1_000,
        "[" * 100_000,  # malformed: json.loads would recurse before it found out
        ("[" * JSON_DEPTH_MAX + "],") * 100,  # never more than 32 in a row, yet ever deeper
    ],
)
def test_a_depth_bomb_is_refused_before_it_reaches_the_recursive_decoder(bomb):
    with pytest.raises(RecursionError):
        json.loads(bomb)  # what the check is for
    with pytest.raises(JsonInputError, match=ERROR_TOO_DEEP):
        json_loads(bomb)


@pytest.mark.parametrize(
    "text",
    [
        '["' + "[" * 100 + '"]',  # brackets in a string
        '["\\"' + "[" * 100 + '"]',  # after an escaped quote, still in the string
        '{"' + "{" * 100 + '": "' + "]" * 100 + '"}',  # in a key
    ],
)
def test_brackets_inside_strings_do_not_count(text):
    assert not json_depth_exceeds(text)
    assert json_loads(text)


def test_a_string_ends_after_an_escaped_backslash():
    text = '["\\\\", ' + nested(JSON_DEPTH_MAX) + "]"

    assert json_depth_exceeds(text)


def test_the_depth_agrees_with_the_decoded_document():
    strings = ["a", "[{", '"]}', "\\", "\\\\]", "é😀"]

    def document(levels: int):
        if levels == 0 or generator.random() < 0.25:
            return generator.choice([1, None, *strings])
        if generator.random() < 0.5:
            return [document(levels - 1) for _ in range(generator.randint(0, 3))]
        return {generator.choice(strings) + str(i): document(levels - 1) for i in range(3)}

    generator = random.Random(18)
    for _ in range(500):
        value = document(generator.randint(0, 10))
        text = json.dumps(value, ensure_ascii=generator.random() < 0.5)
        for limit in range(12):
            assert json_depth_exceeds(text, limit) == (depth_of(value) > limit), (text, limit)


@pytest.mark.parametrize(
    "hostile",
    [
        "[]" * 1_000_000,  # 2 MB of shallow pairs
        "[" * 1_000_000 + "]" * 1_000_000,
        '"' + '\\"' * 1_000_000,  # an unterminated string of escaped quotes
        '["\\"' * 300_000,  # many unterminated strings
        '["a", ' * 300_000,  # many short strings
    ],
)
def test_hostile_text_is_measured_in_linear_time(hostile):
    # Generous: each takes a quarter of a second at most; a quadratic scan, minutes.
    started = time.perf_counter()
    json_depth_exceeds(hostile)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "\\ud800"}',  # a lone high surrogate
        '{"\\udfff": 1}',  # in a key
        '[["ok", {"deep": ["\\uDC00x"]}]]',
        '"\\ude00\\ud83d"',  # the two halves of a pair, in the wrong order
    ],
)
def test_text_with_a_surrogate_is_refused(text):
    with pytest.raises(JsonInputError, match="surrogate"):
        json_loads(text)


def test_a_surrogate_pair_is_one_character_and_welcome():
    assert json_loads('{"name": "\\ud83c\\udf53 jam"}') == {"name": "🍓 jam"}


def test_bytes_must_be_utf_8():
    assert json_loads('{"name": "crème"}'.encode()) == {"name": "crème"}
    # UTF-8 cannot carry a surrogate: its three bytes are not valid UTF-8.
    with pytest.raises(ValueError):
        json_loads(b'{"name": "\xed\xa0\x80"}')


def _parse(body: bytes, charset: str = "utf-8"):
    return BoundedJSONParser().parse(io.BytesIO(body), "application/json", {"encoding": charset})


def test_the_drf_parser_reads_json():
    assert _parse(b'{"qty": 2, "code": "4006381333931"}') == {"qty": 2, "code": "4006381333931"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 1000 + b"]" * 1000, ERROR_TOO_DEEP),
        (b'{"code": "\\ud800"}', ERROR_SURROGATE),
        (b'{"qty": NaN}', "Out of range float values"),
        (b'{"qty": ', "Expecting value"),
    ],
)
def test_the_drf_parser_refuses_with_a_parse_error(body, reason):
    with pytest.raises(ParseError) as refused:
        _parse(body)

    assert str(refused.value.detail).startswith("JSON parse error - ")
    assert reason in str(refused.value.detail)


def test_the_drf_parser_checks_text_decoded_with_the_clients_charset():
    # UTF-7 can carry a lone surrogate without any \u escape.
    with pytest.raises(ParseError, match="surrogate"):
        _parse(b'{"code": "+2AA-"}', charset="utf-7")


def test_the_drf_parser_refuses_a_charset_that_is_not_a_text_encoding():
    # bz2_codec would decompress the body after its size was checked.
    with pytest.raises(ParseError, match="Unsupported charset"):
        _parse(b"BZh9", charset="bz2_codec")
