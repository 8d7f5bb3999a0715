"""Perturbed copies of dataset rows: the invariance tests of CheckList (Ribeiro et al., 2020).

Each kind rewrites a text the way users vary what they type, without changing what they
mean: letter case, punctuation, whitespace, keyboard typos, word order within a clause,
synonyms from a shipped word list. Everything is seeded by (seed, row id, kind, column),
so the same seed gives the same variants whatever the order or number of rows. A kind
that cannot change a text (no letters, no words to reorder) returns None: the row is
skipped for that kind and counted. LLM paraphrase lives in `paraphrase.py`.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.robustness.word_order import perturb_word_order


class PerturbationKind(StrEnum):
    """How a variant differs from its original row."""

    CASE = "case"
    PUNCTUATION = "punctuation"
    WHITESPACE = "whitespace"
    TYPOS = "typos"
    WORD_ORDER = "word-order"
    SYNONYMS = "synonyms"
    PARAPHRASE = "paraphrase"


LOCAL_KINDS: tuple[PerturbationKind, ...] = tuple(
    k for k in PerturbationKind if k is not PerturbationKind.PARAPHRASE
)
VARIANT_SEPARATOR = "~"
DEFAULT_TYPO_RATE = 0.05


class PerturbationError(PromptyardError):
    """A perturbation setting that cannot work (unknown kind, a rate outside 0..1)."""


def parse_kinds(text: str | Sequence[str] | None) -> list[PerturbationKind]:
    """`case,typos` (or a list) as kinds, in the order given; None or empty: every kind.

    Raises PerturbationError naming the unknown kind and the known ones.
    """
    if text is None:
        return list(PerturbationKind)
    names = text.split(",") if isinstance(text, str) else list(text)
    kinds: list[PerturbationKind] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            kind = PerturbationKind(name)
        except ValueError:
            known = ", ".join(k.value for k in PerturbationKind)
            raise PerturbationError(
                f"--kinds: unknown perturbation {raw.strip()!r} (known: {known})"
            ) from None
        if kind not in kinds:
            kinds.append(kind)
    return kinds or list(PerturbationKind)


def variant_row_id(original_id: str, kind: str) -> str:
    """The row id of a variant: the original's id, `~` and the kind (`t-001~typos`)."""
    return f"{original_id}{VARIANT_SEPARATOR}{kind}"


_MASK64 = (1 << 64) - 1


class SplitMix(random.Random):
    """`random.Random` on SplitMix64: seeding is one hash, not the Mersenne Twister's
    624-word state, which cost a third of the time when every text gets its own source."""

    def __init__(self, seed: int = 0) -> None:
        self._state = seed & _MASK64
        super().__init__(seed)

    def seed(self, a: object = None, version: int = 2) -> None:  # type: ignore[override]
        self._state = (a if isinstance(a, int) else hash(a)) & _MASK64

    def _next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        z = self._state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / (1 << 53))

    def getrandbits(self, k: int) -> int:
        if k <= 64:
            return self._next() >> (64 - k)
        out = 0
        for _ in range(0, k, 64):
            out = (out << 64) | self._next()
        return out >> (-k % 64)

    def getstate(self) -> tuple[int, ...]:
        return (self._state,)

    def setstate(self, state: tuple[int, ...]) -> None:  # type: ignore[override]
        self._state = state[0]


def rng_for(seed: int, row_id: str, kind: str, column: str) -> random.Random:
    """The random source of one text's perturbation: the same for the same four values,
    in every process (a blake2b digest of them, not Python's salted `hash`)."""
    key = f"{seed}\x00{row_id}\x00{kind}\x00{column}".encode()
    return SplitMix(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


# --- the kinds ------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_END_PUNCT = re.compile(r"[.,!?;:]+(?=\s|$)")
_LAST_PUNCT = re.compile(r"[.,!?;:]+(\s*)$")
_SPACE = re.compile(r" ")

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    pos = {c: (r, i) for r, row in enumerate(_KEYBOARD_ROWS) for i, c in enumerate(row)}
    out: dict[str, str] = {}
    for c, (r, i) in pos.items():
        near = []
        for dr, di in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, -1), (1, 0)):
            rr, ii = r + dr, i + di
            if 0 <= rr < len(_KEYBOARD_ROWS) and 0 <= ii < len(_KEYBOARD_ROWS[rr]):
                near.append(_KEYBOARD_ROWS[rr][ii])
        out[c] = "".join(near)
    return out


KEYBOARD_NEIGHBOURS: dict[str, str] = _neighbours()
_LETTERS = frozenset(KEYBOARD_NEIGHBOURS) | {c.upper() for c in KEYBOARD_NEIGHBOURS}
_NOT_LETTER = re.compile(r"[^A-Za-z]+")


def _first_change(text: str, options: list[Callable[[str], str]], rng: random.Random) -> str | None:
    rng.shuffle(options)
    for option in options:
        changed = option(text)
        if changed != text:
            return changed
    return None


def perturb_case(text: str, rng: random.Random) -> str | None:
    """All lower, all upper, or the case of some words flipped; None without letters."""

    def flip_words(t: str) -> str:
        return _WORD.sub(lambda m: m.group(0).swapcase() if rng.random() < 0.3 else m.group(0), t)

    return _first_change(text, [str.lower, str.upper, flip_words, str.lower], rng)


def perturb_punctuation(text: str, rng: random.Random) -> str | None:
    """Punctuation after words dropped (all, or the last), or a final `?`/`!` added.

    Marks inside tokens (`2.1`, `#48213`, `e-mail`) stay: dropping them changes meaning.
    """
    if not _WORD.search(text):
        return None

    def drop_all(t: str) -> str:
        return _END_PUNCT.sub("", t)

    def drop_last(t: str) -> str:
        return _LAST_PUNCT.sub(r"\1", t)

    def add_mark(t: str) -> str:
        stripped = t.rstrip()
        if stripped and stripped[-1] in ".!?":
            return t
        return stripped + rng.choice("!?.") + t[len(stripped) :]

    return _first_change(text, [drop_all, drop_last, add_mark], rng)


def perturb_whitespace(text: str, rng: random.Random) -> str | None:
    """Extra spaces between some words, a line break, or spaces around the text."""
    if not text.strip():
        return None

    def doubled(t: str) -> str:
        return _SPACE.sub(lambda _m: " " * rng.choice((1, 1, 2, 3)), t)

    def broken(t: str) -> str:
        spaces = [m.start() for m in _SPACE.finditer(t)]
        if not spaces:
            return t
        at = rng.choice(spaces)
        return t[:at] + "\n" + t[at + 1 :]

    def padded(t: str) -> str:
        return rng.choice(("  ", " ", "\n")) + t + rng.choice(("  ", " ", "\n", "\t"))

    return _first_change(text, [doubled, broken, padded], rng)


def perturb_typos(text: str, rng: random.Random, rate: float = DEFAULT_TYPO_RATE) -> str | None:
    """About `rate` of the letters replaced by a neighbouring key (at least one letter)."""
    n_letters = len(_NOT_LETTER.sub("", text))
    if not n_letters:
        return None
    n = min(n_letters, max(1, round(rate * n_letters)))
    # Positions drawn until n distinct letters are hit: cheaper than listing every letter.
    picked: set[int] = set()
    while len(picked) < n:
        i = rng.randrange(len(text))
        if text[i] in _LETTERS:
            picked.add(i)
    chars = list(text)
    for i in sorted(picked):
        c = chars[i]
        new = rng.choice(KEYBOARD_NEIGHBOURS[c.lower()])
        chars[i] = new.upper() if c.isupper() else new
    return "".join(chars)


@cache
def synonym_table() -> dict[str, tuple[str, ...]]:
    """The shipped synonym list (`synonyms.txt`): a lower-case word to its replacements."""
    table: dict[str, tuple[str, ...]] = {}
    data = resources.files("promptyard.robustness").joinpath("synonyms.txt").read_text("utf-8")
    for line in data.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(":")
        table[word.strip().lower()] = tuple(s.strip() for s in rest.split(",") if s.strip())
    return table


@cache
def _synonym_pattern() -> re.Pattern[str]:
    """Any listed word as a whole word (as `_WORD` splits words), in any case."""
    words = sorted(synonym_table(), key=len, reverse=True)
    alternation = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<![A-Za-z'])(?:{alternation})(?![A-Za-z'])", re.IGNORECASE)


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def perturb_synonyms(text: str, rng: random.Random, share: float = 0.5) -> str | None:
    """About `share` of the words in the shipped list replaced by a synonym (at least one)."""
    table = synonym_table()
    hits = list(_synonym_pattern().finditer(text))
    if not hits:
        return None
    chosen = [m for m in hits if rng.random() < share] or [rng.choice(hits)]
    out: list[str] = []
    last = 0
    for m in chosen:
        word = m.group(0)
        out.append(text[last : m.start()])
        out.append(_match_case(word, rng.choice(table[word.lower()])))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


# --- rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PerturbedRow:
    """One variant: the original row's id, the kind, and the row with its new id."""

    original_id: str
    kind: PerturbationKind
    row: dict[str, Any]

    @property
    def row_id(self) -> str:
        return str(self.row["id"])


@dataclass
class Perturbations:
    """The variants made, in row order then kind order, and the rows each kind skipped."""

    rows: list[PerturbedRow] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # kind -> rows it could not apply to

    def merge(self, other: Perturbations) -> None:
        self.rows.extend(other.rows)
        for kind, n in other.skipped.items():
            self.skipped[kind] = self.skipped.get(kind, 0) + n


def perturb_text(
    text: str,
    kind: PerturbationKind | str,
    rng: random.Random,
    *,
    typo_rate: float = DEFAULT_TYPO_RATE,
) -> str | None:
    """`text` perturbed by one local kind, or None when that kind cannot change it."""
    kind = PerturbationKind(kind)
    if kind is PerturbationKind.CASE:
        return perturb_case(text, rng)
    if kind is PerturbationKind.PUNCTUATION:
        return perturb_punctuation(text, rng)
    if kind is PerturbationKind.WHITESPACE:
        return perturb_whitespace(text, rng)
    if kind is PerturbationKind.TYPOS:
        return perturb_typos(text, rng, typo_rate)
    if kind is PerturbationKind.WORD_ORDER:
        return perturb_word_order(text, rng)
    if kind is PerturbationKind.SYNONYMS:
        return perturb_synonyms(text, rng)
    raise PerturbationError(f"{kind} needs a model: use promptyard.robustness.paraphrase_rows")


def perturb_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    kinds: Sequence[PerturbationKind | str] = LOCAL_KINDS,
    *,
    seed: int = 0,
    typo_rate: float = DEFAULT_TYPO_RATE,
) -> Perturbations:
    """One variant per row and local kind: the chosen text columns perturbed, the rest kept.

    A row where a kind changes none of the columns (or whose columns hold no text) gets no
    variant for it and is counted in `skipped`. `paraphrase` is left out here.
    """
    if not 0.0 <= typo_rate <= 1.0:
        raise PerturbationError(f"the typo rate must be between 0 and 1, not {typo_rate:g}")
    local = [
        PerturbationKind(k) for k in kinds if PerturbationKind(k) is not PerturbationKind.PARAPHRASE
    ]
    out = Perturbations(skipped={k.value: 0 for k in local})
    for row in rows:
        row_id = str(row["id"])
        for kind in local:
            changed: dict[str, str] = {}
            for column in columns:
                value = row.get(column)
                if not isinstance(value, str):
                    continue
                new = perturb_text(
                    value, kind, rng_for(seed, row_id, kind, column), typo_rate=typo_rate
                )
                if new is not None and new != value:
                    changed[column] = new
            if not changed:
                out.skipped[kind.value] += 1
                continue
            variant = {**row, **changed, "id": variant_row_id(row_id, kind)}
            out.rows.append(PerturbedRow(row_id, kind, variant))
    return out
