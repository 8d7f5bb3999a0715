"""Checks on text that need no model: prompt-injection phrasing, banned terms, length.

Each returns the spans it found (`Finding`s, never the text), so the engine can flag,
block or mask them alike. Reasons name the pattern, not what the user wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from promptyard.guardrails.plugins import Finding

# Phrasings that try to override the instructions a model was given (OWASP LLM01 examples).
INJECTION_PATTERNS: dict[str, str] = {
    "ignore-instructions": r"\b(?:ignore|disregard|forget|override|skip)\b[\w\s,]{0,30}?"
    r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the|system)\b[\w\s]{0,20}?"
    r"\b(?:instructions?|prompts?|rules|directions|guidelines|context)\b",
    "reveal-system-prompt": r"\b(?:reveal|show|print|repeat|output|leak|tell me)\b[\w\s]{0,30}?"
    r"\b(?:system|hidden|initial|original|secret)\s+(?:prompt|instructions?|message)\b",
    "role-override": r"\byou\s+are\s+now\b|\bact\s+as\s+(?:an?\s+)?(?:unfiltered|uncensored|"
    r"jailbroken|dan)\b|\bpretend\s+(?:to\s+be|you\s+are)\b",
    "jailbreak-mode": r"\b(?:developer|god|dan|jailbreak)\s+mode\b|\bdo\s+anything\s+now\b",
    "fake-role-tag": r"(?im)^\s*(?:system|assistant)\s*:|<\|?(?:im_start|system)\|?>",
}


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[tuple[str, str], ...]) -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(p, re.IGNORECASE)) for name, p in patterns]


def find_injection(text: str, extra: Sequence[str] = ()) -> list[Finding]:
    """Injection phrasings in `text`; each finding's kind names the pattern that matched."""
    patterns = tuple(INJECTION_PATTERNS.items()) + tuple(
        (f"custom-{i + 1}", p) for i, p in enumerate(extra)
    )
    found: list[Finding] = []
    for name, pattern in _compiled(patterns):
        found.extend(Finding(m.start(), m.end(), name) for m in pattern.finditer(text))
    return found


@lru_cache(maxsize=64)
def _banned(terms: tuple[str, ...], regexes: tuple[str, ...], ignore_case: bool) -> re.Pattern[str]:
    parts = [rf"(?<!\w){re.escape(t)}(?!\w)" for t in terms] + [f"(?:{r})" for r in regexes]
    return re.compile("|".join(parts), re.IGNORECASE if ignore_case else 0)


def find_banned(
    text: str, terms: Iterable[str] = (), regexes: Iterable[str] = (), ignore_case: bool = True
) -> list[Finding]:
    """Banned terms (whole words) and regex matches in `text`."""
    terms, regexes = tuple(terms), tuple(regexes)
    if not terms and not regexes:
        return []
    return [
        Finding(m.start(), m.end(), "banned")
        for m in _banned(terms, regexes, ignore_case).finditer(text)
        if m.end() > m.start()
    ]


def over_length(text: str, max_chars: int) -> list[Finding]:
    """The part of `text` past `max_chars` (nothing when it fits)."""
    return [Finding(max_chars, len(text), "length")] if len(text) > max_chars else []
