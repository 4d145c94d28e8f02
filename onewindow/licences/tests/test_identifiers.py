"""GB/T 36904 identifiers and the ISO/IEC 7064 MOD 37,36 check character."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onewindow.licences.identifiers import (
    ALPHABET,
    is_valid_licence_id,
    make_licence_id,
    mod37_36_check_char,
    mod37_36_valid,
    parse_licence_id,
)

USCC = "11330800002589001X"  # not checked here: the identifier only needs 18 characters of 0-9A-Z


def test_the_check_character_matches_the_iso_7064_example():
    # The example of python-stdnum's iso7064.mod_37_36 (from the standard's annex).
    assert mod37_36_check_char("A12425GABC1234002") == "M"
    assert mod37_36_valid("A12425GABC1234002M")
    assert not mod37_36_valid("A12425GABC1234002N")


def test_an_identifier_has_the_gbt_36904_parts():
    lid = make_licence_id("YYZZ", USCC, "2026000001", 1)
    assert lid.startswith("1.2.156.3005.2.YYZZ.11330800002589001X.2026000001.001.")
    parsed = parse_licence_id(lid)
    assert parsed is not None
    assert (parsed.type_code, parsed.issuer, parsed.serial, parsed.version) == ("YYZZ", USCC, "2026000001", 1)
    assert str(parsed) == lid
    assert mod37_36_valid(lid.replace(".", ""))


def test_every_single_character_change_is_caught():
    lid = make_licence_id("SPJYXKZ", USCC, "2026000042", 3)
    for i, ch in enumerate(lid):
        if ch == ".":
            continue
        for other in ALPHABET:
            if other != ch:
                corrupted = lid[:i] + other + lid[i + 1 :]
                assert not is_valid_licence_id(corrupted), corrupted


def test_most_adjacent_transpositions_are_caught():
    # A hybrid system (MOD 37,36) catches every single substitution but not every transposition.
    body = make_licence_id("BDCQZS", USCC, "2026123456", 2).replace(".", "")
    swaps = [
        body[:i] + body[i + 1] + body[i] + body[i + 2 :]
        for i in range(len(body) - 1)
        if body[i] != body[i + 1]
    ]
    caught = sum(not mod37_36_valid(s) for s in swaps)
    assert caught / len(swaps) > 0.95


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        "1.2.156.3005.2.YYZZ",
        "1.2.156.3005.2.yyzz.11330800002589001X.2026000001.001.4",  # lower case
        "1.2.156.3005.3.YYZZ.11330800002589001X.2026000001.001.4",  # wrong arc
        "1.2.156.3005.2.YYZZ.11330800002589001.2026000001.001.4",  # short issuer
        "1.2.156.3005.2.YYZZ.11330800002589001X.2026000001.1.4",  # version not 3 digits
        "1.2.156.3005.2.YYZZ.11330800002589001X.2026000001.001",  # no check
        "1.2.156.3005.2.YYZZ.11330800002589001X.2026000001.001.4.5",  # extra part
    ],
)
def test_malformed_identifiers_are_refused(bad: str):
    assert not is_valid_licence_id(bad)
    assert parse_licence_id(None) is None  # type: ignore[arg-type]


@given(
    st.text(alphabet="ABCDEFGHJKLMNPQRTUWXY", min_size=2, max_size=12),
    st.integers(min_value=0, max_value=9_999_999_999),
    st.integers(min_value=1, max_value=999),
)
def test_made_identifiers_always_validate(type_code: str, serial: int, version: int):
    lid = make_licence_id(type_code, USCC, f"{serial:010d}", version)
    assert is_valid_licence_id(lid)


def test_make_refuses_bad_parts():
    for args in (("yy", USCC, "2026000001", 1), ("YYZZ", "short", "2026000001", 1), ("YYZZ", USCC, "1", 1)):
        with pytest.raises(ValueError):
            make_licence_id(*args)
    with pytest.raises(ValueError):
        make_licence_id("YYZZ", USCC, "2026000001", 1000)
