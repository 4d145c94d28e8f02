"""Tests of the resident ID, USCC and mobile validators (no database needed)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from onewindow.core.i18n import Bi
from onewindow.core.validators import (
    ID_WEIGHTS,
    PROVINCE_CODES,
    USCC_CHARSET,
    USCC_KINDS,
    USCC_WEIGHTS,
    ResidentId,
    id_check_digit,
    make_resident_id,
    make_uscc,
    mask_id,
    mask_phone,
    mobile_validator,
    resident_id_validator,
    uscc_check_char,
    uscc_validator,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)

TODAY = datetime.date.today()
FIXED_TODAY = datetime.date(2025, 6, 1)

# ------------------------------------------------------------------ strategies

provinces = st.sampled_from(sorted(PROVINCE_CODES))
county_regions = st.builds(lambda p, rest: f"{p}{rest:04d}", provinces, st.integers(1, 9999))
birth_dates = st.dates(datetime.date(1900, 1, 1), TODAY)
sexes = st.sampled_from(["M", "F"])


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, str, datetime.date, int, str]:
    region = draw(county_regions)
    born = draw(birth_dates)
    seq = draw(st.integers(0, 499))
    sex = draw(sexes)
    return make_resident_id(region, born, seq, sex), region, born, seq, sex


uscc_chars = st.sampled_from(USCC_CHARSET)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    authority = draw(st.sampled_from(sorted(USCC_KINDS)))
    kind = draw(st.sampled_from(USCC_KINDS[authority]))
    region = draw(provinces) + draw(st.text("0123456789", min_size=4, max_size=4))
    org = draw(st.text(USCC_CHARSET, min_size=9, max_size=9))
    return make_uscc(authority, kind, region, org)


def assert_fails(func: Callable[..., object], value: object, code: str, **kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value, **kwargs)
    exc = info.value
    assert exc.code == code, (value, exc.code, exc.message)
    assert isinstance(exc.message, Bi)
    assert exc.message.zh.strip() and exc.message.en.strip()
    assert exc.message.zh != exc.message.en
    return exc


# ------------------------------------------------------------------ resident ID: properties


@given(st.text("0123456789", min_size=17, max_size=17))
def test_id_check_digit_satisfies_iso_7064_mod_11_2(first17: str) -> None:
    check = id_check_digit(first17)
    assert check in "0123456789X"
    value = 10 if check == "X" else int(check)
    # With the check character weighted 1, the weighted sum is 1 (mod 11).
    assert (sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) + value) % 11 == 1


@given(resident_ids())
def test_generated_id_validates_and_round_trips(generated: tuple[str, str, datetime.date, int, str]) -> None:
    number, region, born, seq, sex = generated
    result = validate_resident_id(number, today=TODAY)
    assert result == ResidentId(number=number, region_code=region, birth_date=born, sex=sex)
    assert int(number[14:17]) == 2 * seq + (sex == "M")
    assert validate_resident_id(number.lower(), today=TODAY) == result
    assert validate_resident_id(f"  {number}\n", today=TODAY) == result


@given(resident_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_substitution_in_id_is_rejected(
    generated: tuple[str, str, datetime.date, int, str], pos: int, char: str
) -> None:
    number = generated[0]
    assume(char != number[pos])
    assume(pos == 17 or char != "X")
    changed = number[:pos] + char + number[pos + 1 :]
    with pytest.raises(ValidationError) as info:
        validate_resident_id(changed, today=TODAY)
    assert info.value.code in {"region", "birth_date", "checksum"}


@given(resident_ids(), st.integers(0, 16))
def test_any_adjacent_transposition_in_id_is_rejected(
    generated: tuple[str, str, datetime.date, int, str], pos: int
) -> None:
    number = generated[0]
    assume(number[pos] != number[pos + 1])
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    with pytest.raises(ValidationError) as info:
        validate_resident_id(swapped, today=TODAY)
    assert info.value.code in {"format", "region", "birth_date", "checksum"}


@given(resident_ids(), st.integers(0, 17))
def test_any_wrong_check_digit_names_the_expected_one(
    generated: tuple[str, str, datetime.date, int, str], shift: int
) -> None:
    number = generated[0]
    chars = "0123456789X"
    wrong = chars[(chars.index(number[17]) + 1 + shift % 10) % 11]
    exc = assert_fails(validate_resident_id, number[:17] + wrong, "checksum", today=TODAY)
    assert number[17] in exc.message.zh and number[17] in exc.message.en


# ------------------------------------------------------------------ resident ID: examples


def test_standard_example_is_valid() -> None:
    result = validate_resident_id("11010519491231002X", today=FIXED_TODAY)
    assert result.number == "11010519491231002X"
    assert result.region_code == "110105"
    assert result.birth_date == datetime.date(1949, 12, 31)
    assert result.sex == "F"  # order code 002 is even


def test_lower_case_x_is_normalised() -> None:
    assert validate_resident_id("11010519491231002x", today=FIXED_TODAY).number == "11010519491231002X"


def test_full_width_digits_are_normalised() -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002X")
    assert validate_resident_id(full_width, today=FIXED_TODAY).number == "11010519491231002X"


def test_resident_id_is_frozen() -> None:
    result = validate_resident_id("11010519491231002X", today=FIXED_TODAY)
    with pytest.raises(AttributeError):
        result.sex = "M"  # type: ignore[misc]


def test_id_default_today_accepts_a_past_birth_date() -> None:
    assert validate_resident_id("11010519491231002X").sex == "F"


def with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("11010519491231002", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100XX", "format"),
        ("11010519491231002Y", "format"),
        ("1101051949-231002X", "format"),
        ("11010519491231002²", "format"),  # only full-width forms are read as ASCII
        ("110105194912310٠2X", "format"),  # a non-ASCII digit
        (with_check("00010519491231002"), "region"),
        (with_check("19010519491231002"), "region"),
        (with_check("83000019491231002"), "region"),  # residence permit prefix, not a province
        (with_check("11000019491231002"), "region"),  # province-level only, no county
        (with_check("11010519490230002"), "birth_date"),  # 30 February
        (with_check("11010519491301002"), "birth_date"),
        (with_check("11010500000101002"), "birth_date"),
        (with_check("11010518991231002"), "birth_date"),  # before 1900
        ("440524188001010014", "birth_date"),  # the widely quoted 1880 example
        (with_check("11010520250602002"), "birth_date"),  # after FIXED_TODAY
        ("110105194912310021", "checksum"),
        ("110105194912310020", "checksum"),
    ],
)
def test_id_failure_codes(value: str, code: str) -> None:
    assert_fails(validate_resident_id, value, code, today=FIXED_TODAY)


def test_id_birth_date_today_is_allowed_and_tomorrow_is_not() -> None:
    born = with_check("110105" + FIXED_TODAY.strftime("%Y%m%d") + "002")
    assert validate_resident_id(born, today=FIXED_TODAY).birth_date == FIXED_TODAY
    assert_fails(validate_resident_id, born, "birth_date", today=FIXED_TODAY - datetime.timedelta(days=1))


def test_id_messages_say_what_failed() -> None:
    exc = assert_fails(validate_resident_id, "110105194912310021", "checksum", today=FIXED_TODAY)
    assert exc.message.zh == "身份证号码校验码错误：应为 X"
    assert exc.message.en == "ID number check digit is wrong: expected X"
    exc = assert_fails(validate_resident_id, "1101051949123100", "length", today=FIXED_TODAY)
    assert "16" in exc.message.zh and "16" in exc.message.en
    exc = assert_fails(validate_resident_id, "11010519491231A02X", "format", today=FIXED_TODAY)
    assert "15" in exc.message.en and "A" in exc.message.zh


def test_id_non_string_is_a_format_error() -> None:
    assert_fails(validate_resident_id, 110105194912310020, "format")  # type: ignore[arg-type]


def test_make_resident_id_examples() -> None:
    assert make_resident_id("110105", datetime.date(1949, 12, 31), 1, "F") == "11010519491231002X"
    male = make_resident_id("330102", datetime.date(1980, 1, 1), 0, "M")
    assert male[14:17] == "001"
    assert validate_resident_id(male, today=FIXED_TODAY).sex == "M"


@pytest.mark.parametrize(
    ("region", "born", "seq", "sex"),
    [
        ("110105", datetime.date(1949, 12, 31), 500, "F"),
        ("110105", datetime.date(1949, 12, 31), -1, "F"),
        ("110105", datetime.date(1949, 12, 31), 1, "X"),
        ("11010", datetime.date(1949, 12, 31), 1, "F"),
        ("990105", datetime.date(1949, 12, 31), 1, "F"),
        ("110000", datetime.date(1949, 12, 31), 1, "F"),
        ("110105", datetime.date(1899, 12, 31), 1, "F"),
    ],
)
def test_make_resident_id_rejects_impossible_inputs(
    region: str, born: datetime.date, seq: int, sex: str
) -> None:
    with pytest.raises(ValueError):
        make_resident_id(region, born, seq, sex)


def test_id_check_digit_rejects_bad_input() -> None:
    for bad in ("1101051949123100", "11010519491231002X", "1101051949123100a"):
        with pytest.raises(ValueError):
            id_check_digit(bad)


# ------------------------------------------------------------------ USCC: properties


@given(st.text(USCC_CHARSET, min_size=17, max_size=17))
def test_uscc_check_char_makes_weighted_sum_zero_mod_31(first17: str) -> None:
    check = uscc_check_char(first17)
    assert check in USCC_CHARSET
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    assert (total + USCC_CHARSET.index(check)) % 31 == 0


@given(usccs())
def test_generated_uscc_validates_and_normalises(code: str) -> None:
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code
    assert validate_uscc(f" {code} ") == code


@given(usccs(), st.integers(0, 17), uscc_chars)
def test_any_single_substitution_in_uscc_is_rejected(code: str, pos: int, char: str) -> None:
    assume(char != code[pos])
    changed = code[:pos] + char + code[pos + 1 :]
    with pytest.raises(ValidationError) as info:
        validate_uscc(changed)
    assert info.value.code in {"registration_authority", "region", "checksum"}


@given(usccs(), st.integers(0, 17), st.sampled_from("IOSVZ!"))
def test_uscc_character_outside_charset_is_named(code: str, pos: int, char: str) -> None:
    changed = code[:pos] + char + code[pos + 1 :]
    exc = assert_fails(validate_uscc, changed, "charset")
    assert f"{pos + 1}" in exc.message.zh and char in exc.message.zh
    assert f"{pos + 1}" in exc.message.en and char in exc.message.en


# ------------------------------------------------------------------ USCC: examples


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91330201MA282UF146", "91330401MA28ADM67R"])
def test_real_world_usccs_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert validate_uscc(code.lower()) == code


def uscc_with_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "length"),
        ("91350100M000100Y4", "length"),
        ("91350100M000100Y433", "length"),
        ("91350100M000100I43", "charset"),
        ("9135010OM000100Y43", "charset"),
        ("91350100M000100Y4Z", "charset"),
        (uscc_with_check("B1350100M000100Y4"), "registration_authority"),
        (uscc_with_check("94350100M000100Y4"), "registration_authority"),
        (uscc_with_check("99350100M000100Y4"), "registration_authority"),
        (uscc_with_check("Y2350100M000100Y4"), "registration_authority"),
        (uscc_with_check("23350100M000100Y4"), "registration_authority"),
        (uscc_with_check("91990100M000100Y4"), "region"),
        (uscc_with_check("9135A100M000100Y4"), "region"),
        (uscc_with_check("91000000M000100Y4"), "region"),
        ("91350100M000100Y42", "checksum"),
        ("91350100M000100Y40", "checksum"),
    ],
)
def test_uscc_failure_codes(value: str, code: str) -> None:
    assert_fails(validate_uscc, value, code)


def test_uscc_checksum_message_names_the_expected_char() -> None:
    exc = assert_fails(validate_uscc, "91350100M000100Y42", "checksum")
    assert exc.message.zh == "统一社会信用代码校验码错误：应为 3"
    assert exc.message.en.endswith("expected 3")


def test_uscc_kind_message_lists_allowed_kinds() -> None:
    exc = assert_fails(validate_uscc, uscc_with_check("94350100M000100Y4"), "registration_authority")
    assert "1, 2, 3" in exc.message.en


def test_uscc_accepts_every_authority_and_kind_of_the_standard() -> None:
    for authority, kinds in USCC_KINDS.items():
        for kind in kinds:
            code = make_uscc(authority, kind, "330100", "MA2800001")
            assert validate_uscc(code) == code


def test_uscc_accepts_national_region() -> None:
    code = make_uscc("1", "1", "100000", "000013127")
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("authority", "kind", "region", "org"),
    [
        ("91", "", "350100", "M000100Y4"),
        ("9", "1", "35010", "M000100Y4"),
        ("9", "1", "350100", "M000100Y"),
        ("9", "1", "350100", "M000100I4"),
        ("9", "4", "350100", "M000100Y4"),
        ("9", "1", "990100", "M000100Y4"),
    ],
)
def test_make_uscc_rejects_impossible_parts(authority: str, kind: str, region: str, org: str) -> None:
    with pytest.raises(ValueError):
        make_uscc(authority, kind, region, org)


def test_make_uscc_example() -> None:
    assert make_uscc("9", "1", "350100", "M000100Y4") == "91350100M000100Y43"
    assert make_uscc("9", "1", "350100", "m000100y4") == "91350100M000100Y43"


def test_uscc_check_char_rejects_bad_input() -> None:
    for bad in ("91350100M000100Y", "91350100M000100Y43", "91350100M000100I4"):
        with pytest.raises(ValueError):
            uscc_check_char(bad)


# ------------------------------------------------------------------ mobile


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "19912345678",
        "+8613812345678",
        "+86 138 1234 5678",
        "86-138-1234-5678",
        "8613812345678",
        "008613812345678",
        " 138-1234-5678 ",
        "１３８１２３４５６７８",
    ],
)
def test_valid_mobiles(value: str) -> None:
    assert validate_mobile(value) in {"13812345678", "19912345678"}


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1381234567",
        "138123456789",
        "12812345678",
        "10812345678",
        "23812345678",
        "1381234567a",
        "+85213812345678",
        "+86 12812345678",
        "010-12345678",
        "861381234567",
    ],
)
def test_invalid_mobiles(value: str) -> None:
    assert_fails(validate_mobile, value, "format")


@given(st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))
def test_any_well_formed_mobile_validates(second: str, rest: str) -> None:
    number = "1" + second + rest
    assert validate_mobile(number) == number
    assert validate_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number


# ------------------------------------------------------------------ masking


def test_mask_examples() -> None:
    assert mask_id("330822198001011234") == "3308**********1234"
    assert mask_id("11010519491231002X") == "1101**********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_id("") == "" and mask_phone("") == ""


def shown(masked: str) -> int:
    return sum(1 for c in masked if c != "*")


@given(st.text(st.characters(codec="ascii", categories=["Nd", "Lu", "Ll"]), max_size=30))
def test_masks_never_reveal_more_than_half(value: str) -> None:
    masked = mask_id(value)
    assert len(masked) == len(value) and shown(masked) <= len(value) // 2
    keep = 4 if len(value) >= 16 else len(value) // 4
    assert masked == value[:keep] + "*" * (len(value) - 2 * keep) + value[len(value) - keep :]
    try:
        number = validate_mobile(value)
    except ValidationError:
        masked = mask_phone(value)
        assert len(masked) == len(value) and shown(masked) <= len(value) // 2
    else:  # a real mobile number keeps the standard 138****5678 form
        assert mask_phone(value) == number[:3] + "****" + number[7:]


@pytest.mark.parametrize("value", ["1", "12", "123", "1234567", "12345678", "330822"])
def test_short_values_are_masked_safely(value: str) -> None:
    for masked in (mask_id(value), mask_phone(value)):
        assert len(masked) == len(value)
        assert shown(masked) <= len(value) // 2


# ------------------------------------------------------------------ field validators


def test_field_validators() -> None:
    assert resident_id_validator("11010519491231002X") is None
    assert uscc_validator("91350100M000100Y43") is None
    assert mobile_validator("13812345678") is None
    assert_fails(resident_id_validator, "110105194912310021", "checksum")
    assert_fails(uscc_validator, "91350100M000100Y42", "checksum")
    assert_fails(mobile_validator, "12345", "format")


def test_validators_work_in_a_form_field() -> None:
    from django import forms

    field = forms.CharField(validators=[resident_id_validator])
    assert field.clean("11010519491231002X") == "11010519491231002X"
    with pytest.raises(ValidationError) as info:
        field.clean("110105194912310021")
    assert [e.code for e in info.value.error_list] == ["checksum"]
