"""Licence identifiers per GB/T 36904-2018 (电子证照 标识规范).

    1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>

- `1.2.156.3005.2` is the arc the standard reserves for licence types;
- `<type>` is our stable licence type code: upper-case letters and digits (the pinyin initials
  of the type name, e.g. YYZZ for 营业执照). The standard's type code is issued by the national
  licence catalogue; a pinyin code keeps every dotted part in the 0-9A-Z alphabet that the check
  character covers, and a deployment that has national codes can use them unchanged;
- `<issuer>` is the issuing department's unified social credit code (18 characters, GB 32100);
- `<serial>` is 10 digits: the four-digit year of issue and a six-digit counter per type, issuer
  and year;
- `<version>` is 3 digits, 001 for a first issue, +1 for each renewal;
- `<check>` is one character, ISO/IEC 7064 MOD 37,36 over every character before it with the
  dots removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
TYPE_RE = re.compile(r"^[A-Z0-9]{2,32}$")
_ID_RE = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[A-Z0-9]{2,32})\.(?P<issuer>[0-9A-Z]{18})\."
    r"(?P<serial>[0-9]{10})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)


def _final_s(text: str) -> int:
    """The value S after the last character of ISO/IEC 7064 MOD 37,36 (a hybrid system,
    M = 36); a string that ends with its own check character gives 1."""
    m = 36
    p = m
    s = 0
    for ch in text:
        s = (p + _VALUE[ch]) % m
        p = ((s or m) * 2) % (m + 1)
    return s


def mod37_36_check_char(text: str) -> str:
    """The check character to append to `text` (characters 0-9, A-Z only)."""
    m = 36
    p = m
    for ch in text:
        s = (p + _VALUE[ch]) % m
        p = ((s or m) * 2) % (m + 1)
    return ALPHABET[(m + 1 - p) % m]


def mod37_36_valid(text_with_check: str) -> bool:
    if not text_with_check or any(c not in _VALUE for c in text_with_check):
        return False
    return _final_s(text_with_check) == 1


@dataclass(frozen=True)
class LicenceId:
    type_code: str
    issuer: str
    serial: str
    version: int
    check: str

    def __str__(self) -> str:
        return f"{ROOT}.{self.type_code}.{self.issuer}.{self.serial}.{self.version:03d}.{self.check}"


def make_licence_id(type_code: str, issuer_uscc: str, serial: str, version: int) -> str:
    if not TYPE_RE.match(type_code):
        raise ValueError(f"licence type code must be 2-32 of 0-9A-Z, got {type_code!r}")
    if not re.fullmatch(r"[0-9A-Z]{18}", issuer_uscc):
        raise ValueError(f"issuer must be an 18-character USCC, got {issuer_uscc!r}")
    if not re.fullmatch(r"[0-9]{10}", serial):
        raise ValueError(f"serial must be 10 digits, got {serial!r}")
    if not 1 <= version <= 999:
        raise ValueError(f"version must be 1-999, got {version}")
    body = f"{ROOT}.{type_code}.{issuer_uscc}.{serial}.{version:03d}"
    return f"{body}.{mod37_36_check_char(body.replace('.', ''))}"


def parse_licence_id(value: str) -> LicenceId | None:
    """The parts of a well-formed identifier with a correct check character, else None."""
    if not isinstance(value, str):
        return None
    m = _ID_RE.match(value.strip())
    if m is None:
        return None
    if not mod37_36_valid(value.strip().replace(".", "")):
        return None
    return LicenceId(m["type"], m["issuer"], m["serial"], int(m["version"]), m["check"])


def is_valid_licence_id(value: str) -> bool:
    return parse_licence_id(value) is not None
