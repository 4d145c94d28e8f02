"""Validators for Chinese identifiers: resident ID numbers, USCC codes and mobile numbers.

- Resident ID number (居民身份证号码), GB 11643-1999: 6-digit region code (GB/T 2260),
  8-digit birth date, 3-digit order code (odd for men, even for women) and a check
  character computed with ISO 7064 MOD 11-2 ('0'-'9' or 'X').
- Unified social credit code (统一社会信用代码, USCC), GB 32100-2015: registration authority,
  organisation kind, 6-digit region code, 9-character organisation code and a MOD 31 check
  character over the 31-character set without I, O, Z, S, V.
- Mainland China mobile numbers.

Every error is a `ValidationError` whose message is a bilingual `bi(...)` and whose `code`
names the failed check, so the API can show both languages and clients can branch on it.
Full-width digits, letters and spaces (as typed with a Chinese input method) are read as their
ASCII forms, and surrounding whitespace is ignored.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from .i18n import bi

__all__ = [
    "PROVINCE_CODES",
    "USCC_CHARSET",
    "USCC_KINDS",
    "ResidentId",
    "id_check_digit",
    "make_resident_id",
    "make_uscc",
    "mask_id",
    "mask_phone",
    "mobile_validator",
    "resident_id_validator",
    "uscc_check_char",
    "uscc_validator",
    "validate_mobile",
    "validate_resident_id",
    "validate_uscc",
]

DIGITS = frozenset("0123456789")

#: Province-level codes of GB/T 2260 (the first two digits of a region code).
PROVINCE_CODES: frozenset[str] = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82"]
)

#: Region code of organisations registered by a national (central) authority, e.g. 11100000...
NATIONAL_REGION_CODE = "100000"

ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (sum of weighted digits) mod 11
ID_MIN_BIRTH_DATE = datetime.date(1900, 1, 1)

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUES: dict[str, int] = {c: i for i, c in enumerate(USCC_CHARSET)}
USCC_WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

#: GB 32100-2015 registration authority (第 1 位) -> organisation kinds (第 2 位) it may assign.
USCC_KINDS: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直接管理的群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "123459",  # 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游: 外国及港澳台旅游部门常驻代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",  # 工会: 基层工会, 其他
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",  # 农业: 组级, 村级, 乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}


# Full-width ASCII forms (as typed with a Chinese input method) and the ideographic space.
_FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}


def _normalise(value: str) -> str:
    return value.translate(_FULL_WIDTH).strip()


def _today() -> datetime.date:
    if settings.configured:
        return datetime.datetime.now(tz=timezone.get_current_timezone()).date()
    return datetime.datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()


# --------------------------------------------------------------------------- resident ID


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated 18-character resident ID number and what it encodes."""

    number: str
    region_code: str
    birth_date: datetime.date
    sex: Literal["M", "F"]


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) of the first 17 digits."""
    if len(first17) != 17 or not set(first17) <= DIGITS:
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def validate_resident_id(value: str, *, today: datetime.date | None = None) -> ResidentId:
    """Checks an 18-character resident ID number; raises ValidationError naming the failed check.

    Codes: length, format, region, birth_date, checksum. A lower-case 'x' is accepted and
    normalised to 'X'. `today` (default: the current date) bounds the birth date.
    """
    if not isinstance(value, str):
        raise ValidationError(
            message=bi("身份证号码应为文本", "ID number must be text"),
            code="format",
        )
    number = _normalise(value).upper()
    if len(number) != 18:
        raise ValidationError(
            message=bi(
                f"身份证号码应为 18 位，实际为 {len(number)} 位",
                f"ID number must be 18 characters long, got {len(number)}",
            ),
            code="length",
        )
    for pos, char in enumerate(number, start=1):
        if char in DIGITS or (pos == 18 and char == "X"):
            continue
        if pos == 18:
            message = bi(
                f"身份证号码第 18 位“{char}”无效：应为数字或 X",
                f"ID number character 18 '{char}' is not valid: expected a digit or X",
            )
        else:
            message = bi(
                f"身份证号码第 {pos} 位“{char}”无效：前 17 位应为数字",
                f"ID number character {pos} '{char}' is not valid: the first 17 must be digits",
            )
        raise ValidationError(message=message, code="format")

    region_code = number[:6]
    if region_code[:2] not in PROVINCE_CODES:
        raise ValidationError(
            message=bi(
                f"身份证号码地区码 {region_code} 无效：{region_code[:2]} 不是省级行政区划代码",
                f"ID number region code {region_code} is not valid: "
                f"{region_code[:2]} is not a province-level code",
            ),
            code="region",
        )
    if region_code[2:] == "0000":
        raise ValidationError(
            message=bi(
                f"身份证号码地区码 {region_code} 无效：应为县级行政区划代码",
                f"ID number region code {region_code} is not valid: expected a county-level code",
            ),
            code="region",
        )

    raw_date = number[6:14]
    try:
        birth_date = datetime.date(int(raw_date[:4]), int(raw_date[4:6]), int(raw_date[6:]))
    except ValueError:
        raise ValidationError(
            message=bi(
                f"身份证号码出生日期 {raw_date} 不是有效日期",
                f"ID number birth date {raw_date} is not a real date",
            ),
            code="birth_date",
        ) from None
    if birth_date < ID_MIN_BIRTH_DATE:
        raise ValidationError(
            message=bi(
                f"身份证号码出生日期 {birth_date.isoformat()} 早于 1900-01-01",
                f"ID number birth date {birth_date.isoformat()} is before 1900-01-01",
            ),
            code="birth_date",
        )
    if today is None:
        today = _today()
    if birth_date > today:
        raise ValidationError(
            message=bi(
                f"身份证号码出生日期 {birth_date.isoformat()} 晚于今天",
                f"ID number birth date {birth_date.isoformat()} is in the future",
            ),
            code="birth_date",
        )

    expected = id_check_digit(number[:17])
    if number[17] != expected:
        raise ValidationError(
            message=bi(
                f"身份证号码校验码错误：应为 {expected}",
                f"ID number check digit is wrong: expected {expected}",
            ),
            code="checksum",
        )
    return ResidentId(
        number=number,
        region_code=region_code,
        birth_date=birth_date,
        sex="M" if int(number[16]) % 2 else "F",
    )


def make_resident_id(region_code: str, birth_date: datetime.date, seq: int, sex: str) -> str:
    """Builds a valid ID number: the order code is 2*seq+1 for 'M' and 2*seq for 'F'.

    `seq` (0-499) is the n-th person of that sex with that region and birth date, so every
    (seq, sex) pair gives a distinct number. Raises ValueError for inputs that cannot make a
    valid number (the birth date is not compared with today).
    """
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    if not 0 <= seq <= 499:
        raise ValueError(f"seq must be 0-499 (one sex has 500 order codes), got {seq}")
    if len(region_code) != 6 or not set(region_code) <= DIGITS:
        raise ValueError(f"region_code must be 6 digits, got {region_code!r}")
    order = 2 * seq + (1 if sex == "M" else 0)
    first17 = f"{region_code}{birth_date:%Y%m%d}{order:03d}"
    number = first17 + id_check_digit(first17)
    try:
        validate_resident_id(number, today=datetime.date.max)
    except ValidationError as exc:
        raise ValueError(f"cannot build an ID number: {exc.message.en}") from exc
    return number


# --------------------------------------------------------------------------- USCC


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of the first 17 characters of a USCC."""
    if len(first17) != 17 or not set(first17) <= USCC_VALUES.keys():
        raise ValueError(f"expected 17 characters of {USCC_CHARSET}, got {first17!r}")
    total = sum(USCC_VALUES[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Checks a unified social credit code; returns it upper-case.

    Codes: length, charset, registration_authority, region, checksum.
    """
    if not isinstance(value, str):
        raise ValidationError(
            message=bi("统一社会信用代码应为文本", "Unified social credit code must be text"),
            code="charset",
        )
    code = _normalise(value).upper()
    if len(code) != 18:
        raise ValidationError(
            message=bi(
                f"统一社会信用代码应为 18 位，实际为 {len(code)} 位",
                f"Unified social credit code must be 18 characters long, got {len(code)}",
            ),
            code="length",
        )
    for pos, char in enumerate(code, start=1):
        if char not in USCC_VALUES:
            raise ValidationError(
                message=bi(
                    f"统一社会信用代码第 {pos} 位“{char}”无效：只能使用数字和除 I、O、S、V、Z 外的大写字母",
                    f"Unified social credit code character {pos} '{char}' is not valid: "
                    "only digits and capital letters other than I, O, S, V, Z are used",
                ),
                code="charset",
            )

    authority, kind = code[0], code[1]
    kinds = USCC_KINDS.get(authority)
    if kinds is None:
        raise ValidationError(
            message=bi(
                f"统一社会信用代码第 1 位登记管理部门代码“{authority}”无效",
                f"Unified social credit code character 1: '{authority}' is not a registration authority code",
            ),
            code="registration_authority",
        )
    if kind not in kinds:
        allowed = "、".join(kinds)
        raise ValidationError(
            message=bi(
                f"统一社会信用代码第 2 位机构类别代码“{kind}”对登记管理部门“{authority}”无效：应为 {allowed}",
                f"Unified social credit code character 2: organisation kind '{kind}' is not valid "
                f"for registration authority '{authority}': expected one of {', '.join(kinds)}",
            ),
            code="registration_authority",
        )

    region_code = code[2:8]
    if not set(region_code) <= DIGITS or (
        region_code[:2] not in PROVINCE_CODES and region_code != NATIONAL_REGION_CODE
    ):
        raise ValidationError(
            message=bi(
                f"统一社会信用代码第 3-8 位行政区划码 {region_code} 无效",
                f"Unified social credit code characters 3-8: region code {region_code} is not valid",
            ),
            code="region",
        )

    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            message=bi(
                f"统一社会信用代码校验码错误：应为 {expected}",
                f"Unified social credit code check character is wrong: expected {expected}",
            ),
            code="checksum",
        )
    return code


def make_uscc(authority: str, kind: str, region_code: str, org_code9: str) -> str:
    """Builds a valid USCC from its parts by appending the check character.

    `org_code9` is any 9 characters of the USCC charset (its own GB 11714 check character is
    not verified). Raises ValueError for parts that cannot make a valid code.
    """
    parts = {
        "authority": (authority, 1),
        "kind": (kind, 1),
        "region_code": (region_code, 6),
        "org_code9": (org_code9, 9),
    }
    for name, (part, size) in parts.items():
        if len(part) != size:
            raise ValueError(f"{name} must be {size} characters, got {part!r}")
    first17 = (authority + kind + region_code + org_code9).upper()
    if not set(first17) <= USCC_VALUES.keys():
        raise ValueError(f"characters outside {USCC_CHARSET}: {first17!r}")
    code = first17 + uscc_check_char(first17)
    try:
        validate_uscc(code)
    except ValidationError as exc:
        raise ValueError(f"cannot build a USCC: {exc.message.en}") from exc
    return code


# --------------------------------------------------------------------------- mobile


def validate_mobile(value: str) -> str:
    """Checks a mainland China mobile number; returns its 11 digits.

    Spaces and hyphens and a leading +86, 0086 or 86 are removed first. Code: format.
    """
    number = ""
    if isinstance(value, str):
        number = _normalise(value).replace(" ", "").replace("-", "")
        if number.startswith("+86"):
            number = number[3:]
        elif number.startswith("0086"):
            number = number[4:]
        elif number.startswith("86") and len(number) == 13:
            number = number[2:]
    if len(number) == 11 and set(number) <= DIGITS and number[0] == "1" and number[1] in "3456789":
        return number
    raise ValidationError(
        message=bi(
            "手机号码格式错误：应为 1 开头、第 2 位为 3-9 的 11 位数字",
            "Mobile number is not valid: expected 11 digits starting with 1 and then 3-9",
        ),
        code="format",
    )


# --------------------------------------------------------------------------- masking


def _mask(value: str, head: int, tail: int) -> str:
    if head + tail > len(value) // 2:  # never show more than half
        head = tail = len(value) // 4
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id(value: str) -> str:
    """'330822198001011234' -> '3308**********1234'; short values show at most half."""
    if not value:
        return ""
    return _mask(_normalise(value), 4, 4)


def mask_phone(value: str) -> str:
    """'13812345678' (or '+86 138-1234-5678') -> '138****5678'; others show at most half."""
    if not value:
        return ""
    try:
        number = validate_mobile(value)
    except ValidationError:
        return _mask(_normalise(value), 3, 4)
    return number[:3] + "****" + number[7:]


# --------------------------------------------------------------------------- field validators


def resident_id_validator(value: str) -> None:
    """Model/form field validator for resident ID numbers."""
    validate_resident_id(value)


def uscc_validator(value: str) -> None:
    """Model/form field validator for unified social credit codes."""
    validate_uscc(value)


def mobile_validator(value: str) -> None:
    """Model/form field validator for mainland China mobile numbers."""
    validate_mobile(value)
