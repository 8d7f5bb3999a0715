"""Personal data in text: found by pattern, confirmed by the number's own rules, masked.

Each kind is a regular expression for candidates and, where the kind has one, a validator:
phone numbers with `phonenumbers`, card numbers with the Luhn checksum, IBANs and national
ids with `python-stdnum` (US SSN, Spanish DNI and NIE, Italian codice fiscale), IP
addresses with `ipaddress`. A candidate that fails its validator is left alone, so an
order number is not a card and a date is not a phone.

`Masker` replaces what it finds with placeholders like `[EMAIL_1]` (the same value gets
the same placeholder in every message of a call) and can put the values back.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban, luhn
from stdnum.es import dni, nie
from stdnum.it import codicefiscale
from stdnum.us import ssn

from promptyard.guardrails.plugins import Finding
from promptyard.guardrails.policy import PiiKind

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_API_KEY = re.compile(
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_NATIONAL = re.compile(
    r"\b\d{3}-\d{2}-\d{4}\b"  # US SSN
    r"|\b[XYZ]?\d{7,8}-?[A-Z]\b"  # Spanish DNI / NIE
    r"|\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"  # Italian codice fiscale
)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,18}\d(?!\w)")
_NOT_PHONE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[.:]\d{2}|^(?:\d{1,3}\.){3}\d{1,3}$")


def _valid_iban(text: str) -> int:
    """The length of the longest valid IBAN at the start of `text` (0: none)."""
    end = len(text)
    while end >= 15:
        if iban.is_valid(text[:end]):
            return end
        end -= 1
        while end > 0 and text[end - 1] == " ":
            end -= 1
    return 0


def _valid_card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _valid_national(text: str) -> bool:
    if "-" in text and text[3:4] == "-":
        return bool(ssn.is_valid(text))
    if text[:1] in "XYZ" and not text[:1].isdigit():
        return bool(nie.is_valid(text)) or bool(codicefiscale.is_valid(text))
    return bool(dni.is_valid(text)) or bool(codicefiscale.is_valid(text))


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _valid_phone(text: str, region: str) -> bool:
    # Cheap refusals first: parsing is the costly part, and most digit runs are not phones.
    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15 or _NOT_PHONE.match(text):
        return False
    candidate = "+" + text[2:] if text.startswith("00") else text
    try:
        number = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


Taken = list[tuple[int, int]]


def _free(taken: Taken, start: int, end: int) -> bool:
    return not any(start < e and s < end for s, e in taken)


def _spans(
    pattern: re.Pattern[str], text: str, taken: Taken, valid: Callable[[str], bool] | None = None
) -> Iterable[tuple[int, int]]:
    for m in pattern.finditer(text):
        # A span another kind took is not validated again (the costly part).
        if _free(taken, m.start(), m.end()) and (valid is None or valid(m.group())):
            yield m.start(), m.end()


def _iban_spans(text: str, taken: Taken) -> Iterable[tuple[int, int]]:
    for m in _IBAN.finditer(text):
        if not _free(taken, m.start(), m.end()):
            continue
        length = _valid_iban(m.group())
        if length:
            yield m.start(), m.start() + length


# Most specific first: a span one kind took is not looked at again by a later kind.
_ORDER = (
    PiiKind.API_KEY,
    PiiKind.EMAIL,
    PiiKind.IBAN,
    PiiKind.CARD,
    PiiKind.NATIONAL_ID,
    PiiKind.IP,
    PiiKind.PHONE,
)


def find_pii(text: str, kinds: Iterable[str] | None = None, region: str = "US") -> list[Finding]:
    """The personal data in `text` of the given kinds (None: every kind), in text order."""
    wanted = set(kinds) if kinds is not None else {k.value for k in PiiKind}
    taken: Taken = []
    found: list[Finding] = []
    for kind in _ORDER:
        if kind.value not in wanted:
            continue
        if kind is PiiKind.EMAIL and "@" not in text:
            continue  # the cheap test first: most texts have no address at all
        for start, end in _find(kind, text, region, taken):
            if not _free(taken, start, end):
                continue
            taken.append((start, end))
            found.append(Finding(start, end, kind.value))
    found.sort(key=lambda f: f.start)
    return found


def _find(kind: PiiKind, text: str, region: str, taken: Taken) -> Iterable[tuple[int, int]]:
    if kind is PiiKind.EMAIL:
        return _spans(_EMAIL, text, taken)
    if kind is PiiKind.API_KEY:
        return _spans(_API_KEY, text, taken)
    if kind is PiiKind.IBAN:
        return _iban_spans(text, taken)
    if kind is PiiKind.CARD:
        return _spans(_CARD, text, taken, _valid_card)
    if kind is PiiKind.NATIONAL_ID:
        return _spans(_NATIONAL, text, taken, _valid_national)
    if kind is PiiKind.IP:
        return [*_spans(_IPV4, text, taken, _valid_ip), *_spans(_IPV6, text, taken, _valid_ip)]
    return _spans(_PHONE, text, taken, lambda t: _valid_phone(t, region))


@dataclass
class Masker:
    """Placeholders for one call: the same value gets the same `[KIND_N]` in every message,
    and `restore` puts the values back. Counts are by kind; values never leave it."""

    values: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    _by_value: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder standing for `value` (a new one for a value not seen yet)."""
        known = self._by_value.get(value)
        if known is None:
            number = sum(1 for p in self.values if p.startswith(f"[{kind.upper()}_")) + 1
            known = f"[{kind.upper()}_{number}]"
            self.values[known] = value
            self._by_value[value] = known
        return known

    def mask(self, text: str, findings: Iterable[Finding]) -> str:
        """`text` with every finding replaced by its placeholder."""

        def placeholder(f: Finding) -> str:
            self.counts[f.kind] += 1
            return self.placeholder(f.kind, text[f.start : f.end])

        return _replace_spans(text, findings, placeholder)

    def restore(self, text: str) -> tuple[str, int]:
        """`text` with the placeholders put back to their values, and how many were."""
        if not self.values or "[" not in text:
            return text, 0
        pattern = re.compile("|".join(re.escape(p) for p in self.values))
        count = 0

        def put_back(m: re.Match[str]) -> str:
            nonlocal count
            count += 1
            return self.values[m.group()]

        return pattern.sub(put_back, text), count


def redact(text: str, findings: Iterable[Finding], mark: str = "***") -> str:
    """`text` with every finding replaced by `mark` (for banned terms and plugin spans)."""
    return _replace_spans(text, findings, lambda _f: mark)


def _replace_spans(text: str, findings: Iterable[Finding], by: Callable[[Finding], str]) -> str:
    """`text` with each finding's span replaced by `by(finding)`, left to right; a finding
    overlapping one already replaced is left out."""
    out: list[str] = []
    at = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < at:
            continue
        out.append(text[at : f.start])
        out.append(by(f))
        at = f.end
    out.append(text[at:])
    return "".join(out)
