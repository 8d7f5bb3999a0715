"""Similarity to the value or the row's reference.

promptfoo's names with promptfoo's meanings: `levenshtein` (edit distance at most
`threshold`, default 5), `rouge-n` and `rouge-l` (js-rouge's scores, default threshold
0.75), `bleu` (promptfoo's own sentence BLEU, default 0.5). Promptyard's own
`similarity-ratio` is the normalized Levenshtein similarity (0..1, default 0.8).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from promptyard.evals.evaluators.base import Assertion, EvalContext, Grade, register


def _scored(value: float, a: Assertion, default: float, what: str) -> Grade:
    threshold = a.threshold if a.threshold is not None else default
    value = max(0.0, min(1.0, value))
    passed = value >= threshold
    return Grade(value, passed, f"{what} {value:.3f} ({'>=' if passed else '<'} {threshold:g})")


def _text(a: Assertion, what: str) -> str:
    if not isinstance(a.value, str):
        raise ValueError(f"{what} needs a text value, not {type(a.value).__name__}")
    return a.value


@register(
    "levenshtein",
    "the Levenshtein edit distance to the value or reference is at most `threshold:` (default 5)",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def levenshtein(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Passes when the edit distance is at most `threshold` (default 5); value 1 or 0."""
    from rapidfuzz.distance import Levenshtein

    distance = Levenshtein.distance(output, _text(a, "levenshtein"))
    threshold = a.threshold if a.threshold is not None else 5
    passed = distance <= threshold
    sign = "<=" if passed else ">"
    return Grade(1.0 if passed else 0.0, passed, f"edit distance {distance} ({sign} {threshold:g})")


@register(
    "similarity-ratio",
    "Promptyard's own: the normalized Levenshtein similarity (0..1) is at least `threshold:`",
    needs_value=False,
    uses_reference=True,
)
def similarity_ratio(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """The normalized Levenshtein similarity of the trimmed texts; passes at `threshold`
    (default 0.8)."""
    from rapidfuzz.distance import Levenshtein

    ratio = Levenshtein.normalized_similarity(output.strip(), str(a.value).strip())
    return _scored(ratio, a, 0.8, "similarity ratio")


# --- ROUGE (as js-rouge 3, which promptfoo uses; case-insensitive as promptfoo calls it) ---

_SPLIT = re.compile(r"([;@#$%&?!()\[\]{}<>\"`:]|--|\.\.\.|,(?!\d))")
_FINAL_PERIOD = re.compile(r"([^.])(\.)([\])}>\"']*)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def tokenize(text: str) -> list[str]:
    """Penn-Treebank-like word tokens: punctuation and a final period stand alone."""
    text = " ".join(text.split())
    if not text:
        return []
    text = _FINAL_PERIOD.sub(r"\1 \2\3 ", text)
    text = _SPLIT.sub(r" \1 ", text)
    text = re.sub(r"(\w)('s|'m|'d|'ll|'re|'ve|n't)\b", r"\1 \2", text, flags=re.IGNORECASE)
    return text.split()


def _sentences(text: str) -> list[str]:
    found = [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]
    return found or [text]


def rouge_n(candidate: str, reference: str, n: int = 1) -> float:
    """ROUGE-N recall: distinct n-grams of the candidate found in the reference, over the
    reference's n-gram count (js-rouge's `n`). Raises ValueError for empty texts."""
    cand, ref = tokenize(candidate.lower()), tokenize(reference.lower())
    if not cand:
        raise ValueError("the output is empty (ROUGE needs a candidate)")
    if not ref:
        raise ValueError("the reference is empty")
    cand_grams = {" ".join(cand[i : i + n]) for i in range(len(cand) - n + 1)}
    ref_list = [" ".join(ref[i : i + n]) for i in range(len(ref) - n + 1)]
    if not ref_list:
        return 0.0
    return len(cand_grams & set(ref_list)) / len(ref_list)


def _lcs(a: list[str], b: list[str]) -> list[str]:
    """One longest common subsequence of two token lists (rapidfuzz's, in C)."""
    from rapidfuzz.distance import LCSseq

    return [
        token
        for op in LCSseq.opcodes(a, b)
        if op.tag == "equal"
        for token in a[op.src_start : op.src_end]
    ]


_LCS_LIMIT = 20_000  # tokens per sentence; longer ones are cut (the work is quadratic)


def rouge_l(candidate: str, reference: str, beta: float = 0.5) -> float:
    """ROUGE-L as js-rouge computes it: per reference sentence, the distinct tokens of its
    longest common subsequence with the candidate's sentences, summed, and an F-measure
    (beta 0.5) of that over both lengths. Raises ValueError for empty texts."""
    cand_text, ref_text = candidate.lower(), reference.lower()
    cand_words, ref_words = tokenize(cand_text), tokenize(ref_text)
    if not cand_words:
        raise ValueError("the output is empty (ROUGE needs a candidate)")
    if not ref_words:
        raise ValueError("the reference is empty")
    cand_sents = [tokenize(s)[:_LCS_LIMIT] for s in _sentences(cand_text)]
    total = 0
    for sent in _sentences(ref_text):
        r = tokenize(sent)[:_LCS_LIMIT]
        union: set[str] = set()
        for c in cand_sents:
            union |= set(_lcs(c, r))
        total += len(union)
    if total == 0:
        return 0.0
    recall, precision = total / len(cand_words), total / len(ref_words)
    b2 = beta * beta
    return min(1.0, (1 + b2) * recall * precision / (recall + b2 * precision))


@register(
    "rouge-n",
    "ROUGE-N (unigram recall, js-rouge) to the value or reference is at least `threshold:` "
    "(default 0.75)",
    needs_value=False,
    uses_reference=True,
)
def rouge_n_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """ROUGE-N to the value; passes at `threshold` (default 0.75)."""
    return _scored(rouge_n(output, _text(a, "rouge-n")), a, 0.75, "ROUGE-N")


@register(
    "rouge-l",
    "ROUGE-L (longest common subsequence F-measure, js-rouge) to the value or reference is "
    "at least `threshold:` (default 0.75)",
    needs_value=False,
    uses_reference=True,
)
def rouge_l_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """ROUGE-L to the value; passes at `threshold` (default 0.75)."""
    return _scored(rouge_l(output, _text(a, "rouge-l")), a, 0.75, "ROUGE-L")


# --- BLEU (promptfoo's src/assertions/bleu.ts) -----------------------------------------


def _grams(words: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def bleu(candidate: str, references: list[str]) -> float:
    """Sentence BLEU as promptfoo computes it: lower-cased words split at whitespace,
    clipped 1..4-gram precisions (best reference per order), zero precisions smoothed to
    1e-7, the brevity penalty of the reference closest in length. Raises ValueError for
    an empty candidate or no references."""
    if not candidate or not references:
        raise ValueError("BLEU needs a non-empty output and at least one reference")
    cand = candidate.lower().split()
    refs = [r.lower().split() for r in references]
    closest = refs[0]
    for r in refs[1:]:
        if abs(len(r) - len(cand)) < abs(len(closest) - len(cand)):
            closest = r
    log_sum = 0.0
    for n in range(1, 5):
        grams = _grams(cand, n)
        total = sum(grams.values())
        best = 0
        for r in refs:
            ref_grams = _grams(r, n)
            best = max(best, sum(min(c, ref_grams[g]) for g, c in grams.items()))
        precision = best / total if total else 0.0
        log_sum += 0.25 * math.log(precision if precision > 0 else 1e-7)
    if not cand:
        return 0.0
    penalty = 1.0 if len(cand) > len(closest) else math.exp(1 - len(closest) / len(cand))
    return penalty * math.exp(log_sum)


@register(
    "bleu",
    "sentence BLEU (promptfoo's, 0..1) to the value(s) or reference is at least `threshold:` "
    "(default 0.5)",
    needs_value=False,
    uses_reference=True,
)
def bleu_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Sentence BLEU to the value (or each of a list of values); passes at 0.5 by default."""
    if isinstance(a.value, list):
        if not all(isinstance(v, str) for v in a.value):
            raise ValueError("bleu needs a text or a list of texts")
        refs = list(a.value)
    else:
        refs = [_text(a, "bleu")]
    return _scored(bleu(output, refs), a, 0.5, "BLEU")
