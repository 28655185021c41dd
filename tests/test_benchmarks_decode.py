"""benchmarks.decode: judging by the code acted on, the store catalog, and leave-one-set-out.

Runs on photos made here (the shared corpus is the benchmark's input, not the tests').
"""

import csv
import json
from collections import Counter
from dataclasses import replace

import pytest
from PIL import Image

from benchmarks.decode.__main__ import main
from benchmarks.decode.corpus import (
    COMPANY_PREFIX_DIGITS,
    NEIGHBOURS_PER_CODE,
    RANDOM_GTINS,
    Photo,
    store_catalog,
)
from benchmarks.decode.judging import (
    NOTHING,
    REFUSED,
    RIGHT,
    UNKNOWN,
    WRONG,
    decide,
    judge,
)
from benchmarks.decode.selection import Fold, Judged, choose, leave_one_set_out, score
from catalog.barcodes import gtin_normalise
from devices.decoding import DecodedCode, pyzbar_available
from devices.read_policy import POLICY
from tests.devices.support import (
    EAN13,
    EAN13_GTIN,
    OTHER_EAN13,
    OTHER_GTIN,
    ean13_image,
    encoded,
    two_codes_photo,
)

ean13 = DecodedCode(EAN13, "EAN13", EAN13_GTIN)
other = DecodedCode(OTHER_EAN13, "EAN13", OTHER_GTIN)


def photo(expected: str = EAN13_GTIN, *, is_qr: bool = False, set_name: str = "a") -> Photo:
    return Photo(set_name, "1.png", is_qr, expected, b"")


def verdicts(name: str, shot: Photo, codes, catalog=None) -> str:
    return judge(shot, decide(name, shot, codes, catalog), catalog)


# --- Judging ------------------------------------------------------------------------------------


def test_a_library_acts_on_its_first_code_and_the_project_refuses_two():
    shot = photo(OTHER_GTIN)

    assert verdicts("zxing-cpp", shot, [ean13, other]) == WRONG
    assert verdicts("zxing-cpp", shot, [other, ean13]) == RIGHT
    assert verdicts("project", shot, [ean13, other]) == REFUSED


def test_in_a_store_a_wrong_code_outside_the_catalog_is_an_unknown_product():
    shot = photo(OTHER_GTIN)

    assert verdicts("pyzbar", shot, [ean13], catalog={OTHER_GTIN}) == UNKNOWN
    assert verdicts("pyzbar", shot, [ean13], catalog={OTHER_GTIN, EAN13_GTIN}) == WRONG
    assert verdicts("pyzbar", shot, [ean13], catalog=None) == WRONG  # strict


def test_in_a_store_the_catalog_settles_two_codes_for_the_project_only():
    shot = photo(OTHER_GTIN)

    assert verdicts("project", shot, [ean13, other], catalog={OTHER_GTIN}) == RIGHT
    assert verdicts("zxing-cpp", shot, [ean13, other], catalog={OTHER_GTIN}) == UNKNOWN


def test_a_qr_photos_own_text_is_the_pass_and_other_qr_codes_are_ignored():
    shot = photo("SCP1:alice", is_qr=True)
    poster = DecodedCode("https://example.com/", "QRCODE")
    alice = DecodedCode("SCP1:alice", "QRCODE")

    assert verdicts("project", shot, [poster, alice]) == RIGHT
    assert verdicts("zxing-cpp", shot, [poster, alice]) == RIGHT
    assert verdicts("project", shot, [poster]) == NOTHING
    assert verdicts("project", shot, [ean13]) == WRONG  # a product acted on in a pass photo


def test_nothing_read_is_nothing():
    assert verdicts("project", photo(), []) == NOTHING


# --- The store's catalog ------------------------------------------------------------------------


def test_the_catalog_holds_the_expected_codes_their_companies_and_random_shelf_codes():
    shots = [photo(EAN13_GTIN), photo(OTHER_GTIN), photo("SCP1:x", is_qr=True)]

    catalog = store_catalog(shots)

    assert {EAN13_GTIN, OTHER_GTIN} <= catalog
    assert len(catalog) == 2 * (NEIGHBOURS_PER_CODE + 1) + RANDOM_GTINS
    company = EAN13_GTIN[1 : 1 + COMPANY_PREFIX_DIGITS]
    neighbours = {gtin for gtin in catalog if gtin[1 : 1 + COMPANY_PREFIX_DIGITS] == company}
    assert len(neighbours) > NEIGHBOURS_PER_CODE // 2
    assert all(gtin_normalise(gtin).gtin == gtin for gtin in catalog)  # every check digit holds
    assert store_catalog(shots) == catalog  # the same catalog every run


# --- Leave one set out --------------------------------------------------------------------------

cautious = POLICY
careless = replace(POLICY, confirm_weak_symbologies=False, confirm_unissued_prefixes=False)


def judged(set_name: str, outcomes: dict, plain: str = RIGHT, quality: str = "original") -> Judged:
    return Judged(photo(set_name=set_name), quality, outcomes, plain)


def test_a_fold_is_chosen_without_the_set_it_is_judged_on():
    # The careless policy is right on set "x" only; on "y" and "z" it acts wrongly.
    items = [
        judged("x", {cautious: (NOTHING, 1.0), careless: (RIGHT, 1.0)}),
        judged("y", {cautious: (RIGHT, 1.0), careless: (WRONG, 1.0)}),
        judged("z", {cautious: (RIGHT, 1.0), careless: (RIGHT, 1.0)}),
    ]

    folds = {fold.held_out: fold for fold in leave_one_set_out(items, [cautious, careless])}

    assert folds["x"].policy == cautious  # chosen on y and z
    assert folds["x"].outcomes["original"] == Counter({NOTHING: 1})
    assert folds["y"].policy == careless  # on x and z the careless one reads more
    assert folds["y"].outcomes["original"] == Counter({WRONG: 1})


def test_a_wrong_act_weighs_ten_right_ones():
    items = [judged("a", {cautious: (NOTHING, 1.0), careless: (WRONG, 1.0)})]
    items += [judged("a", {cautious: (NOTHING, 1.0), careless: (RIGHT, 1.0)})] * 9

    assert choose(items, [cautious, careless], {"a"}) == cautious


def test_equal_scores_go_to_the_more_cautious_policy_then_the_cheaper():
    items = [judged("a", {cautious: (RIGHT, 9.0), careless: (RIGHT, 1.0)})]
    cheap = replace(cautious, budget_ms=10.0)
    items_with_budget = [judged("a", {cautious: (RIGHT, 9.0), cheap: (RIGHT, 1.0)})]

    assert score(items, cautious) > score(items, careless)
    assert choose(items, [careless, cautious], {"a"}) == cautious
    assert choose(items_with_budget, [cautious, cheap], {"a"}) == cheap


@pytest.mark.parametrize(
    ("ours", "plain", "worse"),
    [
        pytest.param({RIGHT: 5}, {RIGHT: 5}, False, id="as good"),
        pytest.param({RIGHT: 4, REFUSED: 1}, {RIGHT: 5}, True, id="fewer right"),
        pytest.param({RIGHT: 4, NOTHING: 1}, {RIGHT: 5, WRONG: 1}, False, id="fewer wrong"),
        pytest.param({RIGHT: 6, WRONG: 1}, {RIGHT: 5}, True, id="more wrong"),
    ],
)
def test_a_set_is_worse_with_more_wrong_acts_or_as_many_and_fewer_right(ours, plain, worse):
    fold = Fold("a", POLICY, {"original": Counter(ours)}, {"original": Counter(plain)})

    assert fold.worse_than_plain("original") is worse


# --- The whole run ------------------------------------------------------------------------------


@pytest.mark.skipif(not pyzbar_available(), reason="libzbar is not installed: no pyzbar column")
def test_the_benchmark_runs_on_a_corpus_and_ends_with_one_json_line(tmp_path, capsys):
    from shopcart.core.qr import qr_png

    shots = {
        ("books", "single.png", "EAN_13", EAN13): encoded(ean13_image()),
        ("books", "two.png", "EAN_13", EAN13): two_codes_photo(),
        ("passes", "pass.png", "QR_CODE", "SCP1:alice"): qr_png("SCP1:alice"),
        ("passes", "blank.png", "QR_CODE", "SCP1:bob"): encoded(Image.new("L", (90, 90), 255)),
    }
    rows = []
    for (set_name, file, barcode_format, expected), data in shots.items():
        (tmp_path / set_name).mkdir(exist_ok=True)
        (tmp_path / set_name / file).write_bytes(data)
        rows.append({"set": set_name, "file": file, "format": barcode_format, "expected": expected})
    with open(tmp_path / "manifest.csv", "w", newline="", encoding="utf-8") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=["set", "file", "format", "expected"])
        writer.writeheader()
        writer.writerows(rows)

    assert main(["--corpus", str(tmp_path), "--repeat", "1", "--leave-one-set-out"]) == 0

    printed = capsys.readouterr().out.splitlines()
    summary = json.loads(printed[-1])
    strict = summary["results"]["original"]["project"]["strict"]
    assert (strict["right"], strict["wrong"], strict["refused"], strict["nothing"]) == (2, 0, 1, 1)
    zxing_alone = summary["results"]["original"]["zxing-cpp"]["strict"]
    assert zxing_alone["refused"] == 0  # a library alone acts on its first code
    assert [fold["set"] for fold in summary["leave_one_set_out"]] == ["books", "passes"]
    assert summary["cart_jpeg_quality"] == 40
    assert any(line.startswith("leave one set out") for line in printed)
