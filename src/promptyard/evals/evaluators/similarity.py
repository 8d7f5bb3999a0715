"""Similarity to the value or the row's reference: levenshtein, rouge-l and bleu (0..1)."""

from __future__ import annotations

import re

from promptyard.evals.evaluators.base import Assertion, EvalContext, Grade, register


def _similarity(value: float, a: Assertion, default: float, what: str) -> Grade:
    threshold = a.threshold if a.threshold is not None else default
    value = max(0.0, min(1.0, value))
    passed = value >= threshold
    return Grade(value, passed, f"{what} {value:.3f} ({'>=' if passed else '<'} {threshold:g})")


@register(
    "levenshtein",
    "Levenshtein similarity ratio (0..1, rapidfuzz) to the value or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def levenshtein(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """The normalized Levenshtein similarity; passes at `threshold` (default 0.8)."""
    from rapidfuzz.distance import Levenshtein

    ratio = Levenshtein.normalized_similarity(output.strip(), str(a.value).strip())
    return _similarity(ratio, a, 0.8, "Levenshtein ratio")


_TOKEN = re.compile(r"\w+", re.UNICODE)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    from rapidfuzz.distance import LCSseq

    cand = _TOKEN.findall(candidate.casefold())
    ref = _TOKEN.findall(reference.casefold())
    if not cand or not ref:
        return 1.0 if cand == ref else 0.0
    lcs = LCSseq.similarity(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


@register(
    "rouge-l",
    "ROUGE-L F1 (longest common word subsequence) to the value or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def rouge_l_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """ROUGE-L F1 to the value; passes at `threshold` (default 0.5)."""
    return _similarity(rouge_l(output, str(a.value)), a, 0.5, "ROUGE-L")


def bleu(candidate: str, references: list[str]) -> float:
    """Sentence BLEU (sacrebleu, exponential smoothing) on a 0..1 scale."""
    import sacrebleu

    if not candidate.strip():
        return 0.0
    return float(sacrebleu.sentence_bleu(candidate, references).score) / 100.0


@register(
    "bleu",
    "sentence BLEU (sacrebleu, 0..1) to the value(s) or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def bleu_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    """Sentence BLEU to the value (or each of a list of values); passes at 0.5 by default."""
    refs = [str(v) for v in a.value] if isinstance(a.value, list) else [str(a.value)]
    return _similarity(bleu(output, refs), a, 0.5, "BLEU")
