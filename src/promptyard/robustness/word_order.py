"""The `word-order` perturbation: a clause's words reordered where the meaning survives.

Three rewrites only, each keeping what a sentence says: a closing time or place phrase moved
to the front (`I ordered it on March 3rd.` -> `On March 3rd, I ordered it.`), a fronted
one moved to the end, and two plain words joined by and/or swapped at a clause's end.
"""

from __future__ import annotations

import random
import re

_CLAUSE_END = r"(?P<end>[.!?]*)(?P<after>\s*)$"
_TRAILING_TIME = re.compile(
    r"^(?P<head>\S+(?:\s+\S+){2,}?)\s+(?P<phrase>(?:on|since|after|before|during|in|at)\s+"
    r"(?:(?:the|last|this|next|my|our)\s+)?[\w#'-]+(?:\s+[\w#'-]+){0,2})" + _CLAUSE_END,
    re.IGNORECASE,
)
_FRONTED = re.compile(
    r"^(?P<phrase>(?:on|in|at|after|before|since|during|yesterday|today|tomorrow|last|this|next)"
    r"\b[^,]{0,40}),\s+(?P<head>\S+\s.*?)(?P<end>[.!?]*)(?P<after>\s*)$",
    re.IGNORECASE,
)
_PAIR = re.compile(r"\b(?P<a>[A-Za-z]{3,}) (?P<conj>and|or) (?P<b>[A-Za-z]{3,})(?=[.,;!?]|$)")
_PAIR_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "but",
        "not",
        "you",
        "are",
        "was",
        "has",
        "had",
        "can",
        "will",
        "his",
        "her",
        "its",
        "our",
        "their",
        "this",
        "that",
        "with",
        "from",
        "have",
        "been",
        "were",
        "they",
        "them",
        "then",
        "than",
        "also",
        "very",
        "into",
        "onto",
    ]
)
_OPEN_PREPOSITIONS = frozenset(("in", "at", "on"))
_CLAUSES = re.compile(r"[^.!?;\n]+[.!?;]*\s*|\n+")


def _starts_proper(word: str) -> bool:
    return word == "I" or word.startswith("I'") or (len(word) > 1 and word[1:2].isupper())


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if _starts_proper(first) else text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _time_phrase_forward(clause: str) -> str | None:
    """`I ordered it on March 3rd.` -> `On March 3rd, I ordered it.`"""
    m = _TRAILING_TIME.match(clause)
    if not m:
        return None
    phrase = m.group("phrase")
    prep, _, rest = phrase.partition(" ")
    words = rest.split()
    lead = (
        words[1]
        if words[0].lower() in ("the", "last", "this", "next") and len(words) > 1
        else words[0]
    )
    # "in"/"at"/"on" move only before a name or a number: "in September", "on the 4th", not "in it".
    if prep.lower() in _OPEN_PREPOSITIONS and not (lead[:1].isupper() or lead[:1].isdigit()):
        return None
    return (
        f"{_upper_first(phrase)}, {_lower_first(m.group('head'))}{m.group('end')}{m.group('after')}"
    )


def _time_phrase_back(clause: str) -> str | None:
    """`On Tuesday, the council voted.` -> `The council voted on Tuesday.`"""
    m = _FRONTED.match(clause)
    if not m:
        return None
    phrase = _lower_first(m.group("phrase"))
    end = m.group("end") or ""
    return f"{_upper_first(m.group('head'))} {phrase}{end}{m.group('after')}"


def _swap_pair(clause: str) -> str | None:
    """`... cats and dogs.` -> `... dogs and cats.` (two plain words closing a clause)."""
    for m in _PAIR.finditer(clause):
        a, b = m.group("a"), m.group("b")
        if a.lower() in _PAIR_STOP or b.lower() in _PAIR_STOP or a[0].isupper() != b[0].isupper():
            continue
        return clause[: m.start()] + f"{b} {m.group('conj')} {a}" + clause[m.end() :]
    return None


def perturb_word_order(text: str, rng: random.Random) -> str | None:
    """One clause's words reordered where the meaning survives, else None.

    Three rewrites only: a closing time phrase moved to the front (`On March 3rd, I ...`),
    a fronted one moved to the end, and two words joined by and/or swapped at a clause's
    end. A clause none applies to is left alone; a text with no such clause is skipped.
    """
    clauses = _CLAUSES.findall(text)
    candidates: list[tuple[int, str]] = []
    for i, clause in enumerate(clauses):
        for rewrite in (_time_phrase_forward, _time_phrase_back, _swap_pair):
            new = rewrite(clause)
            if new is not None and new != clause:
                candidates.append((i, new))
    if not candidates:
        return None
    i, new = rng.choice(candidates)
    clauses[i] = new
    changed = "".join(clauses)
    return changed if changed != text else None
