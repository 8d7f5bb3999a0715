"""`promptyard export finetune`: OpenAI fine-tuning JSONL from rated cells, votes and traces.

`build_finetune` collects the examples, validates them the way OpenAI's cookbook does and
estimates the training cost; it writes nothing. `write_finetune` writes a validated export
atomically. An export with nothing over the bar, or one that fails a check, writes no file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promptyard.errors import PromptyardError
from promptyard.finetune.collect import Collected, dpo_from_votes, from_traces, sft_from_runs
from promptyard.finetune.pricing import DEFAULT_MODEL, CostEstimate, estimate_training_cost
from promptyard.finetune.validate import FinetuneFormat, Validation, validate_examples
from promptyard.workspace import Workspace

DEFAULT_MIN_SCORE = 0.75  # 4 on a 1-5 scale, a thumbs up


class FinetuneError(PromptyardError):
    """An export that cannot be written: bad settings, or data that fails a check."""


@dataclass
class FinetuneExport:
    """What an export holds: its JSON lines, checks, cost estimate, and why when empty."""

    format: FinetuneFormat
    model: str
    min_score: float
    collected: Collected
    validation: Validation
    estimate: CostEstimate
    traces: bool = False

    @property
    def count(self) -> int:
        return len(self.collected.examples)

    @property
    def empty_reason(self) -> str | None:
        """Why nothing was exported (None when something was)."""
        if self.count:
            return None
        got = self.collected
        what = "voted pair" if self.format is FinetuneFormat.DPO else "answered cell"
        what += " or trace" if self.traces else ""
        if not got.considered:
            where = "blind A/B votes" if self.format is FinetuneFormat.DPO else "cells or feedback"
            return f"nothing to export: the runs have no {where}"
        best = "" if got.best is None else f" (the best score is {got.best:.2f})"
        parts = [f"no {what} clears --min-score {self.min_score:g}{best}"]
        if got.below_bar:
            parts.append(f"{got.below_bar} below the bar")
        if got.unscored:
            parts.append(f"{got.unscored} with no rating, suite score or winning vote")
        parts.extend(f"{n} {reason}" for reason, n in got.notes.items())
        return "; ".join(parts)

    def text(self) -> str:
        """The JSONL file's content: one example a line."""
        return "".join(json.dumps(ex, ensure_ascii=False) + "\n" for ex in self.collected.examples)

    def summary_lines(self) -> list[str]:
        """Counts, tokens and the estimated cost, as the CLI and the pages print them."""
        v, e = self.validation, self.estimate
        sources = ", ".join(f"{n} from {s}" for s, n in self.collected.sources.items())
        lines = [f"{self.count} {self.format.value.upper()} example(s) ({sources or 'none'})"]
        if v.tokens:
            lines.append(
                f"tokens: {v.total_tokens:,} in all, {min(v.tokens):,}–{max(v.tokens):,} per example"
                f" (limit {v.limit:,} for {self.model}; {v.over_limit} over it, cut in training)"
            )
            cost = (
                "unknown (no training price for this model)" if e.usd is None else f"${e.usd:,.4f}"
            )
            lines.append(
                f"training: {e.epochs} epoch(s) x {e.billed_tokens_per_epoch:,} tokens = "
                f"{e.training_tokens:,} billed tokens; estimated cost {cost}"
            )
        left_out = self.collected.below_bar + self.collected.unscored
        if self.count and left_out:
            lines.append(
                f"left out: {self.collected.below_bar} below the bar, {self.collected.unscored} unscored"
            )
        lines.extend(f"note: {n} {reason}" for reason, n in self.collected.notes.items())
        return lines


def build_finetune(
    ws: Workspace,
    run_ids: Sequence[int],
    fmt: FinetuneFormat | str = FinetuneFormat.SFT,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    scheme: str | None = None,
    traces: bool = False,
    model: str = DEFAULT_MODEL,
) -> FinetuneExport:
    """Collect, validate and price an export; nothing is written.

    Raises FinetuneError for bad settings (unknown format or scheme, a bar outside 0..1,
    nothing asked for) and NotFoundError for an unknown run.
    """
    from promptyard.ratings import RatingError, get_scheme

    try:
        kind = FinetuneFormat(str(fmt).lower())
    except ValueError:
        raise FinetuneError(f"--format must be sft or dpo, not {fmt!r}") from None
    if not 0.0 <= min_score <= 1.0:
        raise FinetuneError(f"--min-score must be between 0 and 1, not {min_score:g}")
    if not run_ids and not traces:
        raise FinetuneError("name at least one run (or --traces for production traces)")
    if scheme:
        try:
            get_scheme(ws, scheme)
        except RatingError as exc:
            raise FinetuneError(f"--scheme: {exc}") from None
    got = Collected()
    if kind is FinetuneFormat.SFT:
        sft_from_runs(ws, run_ids, min_score, scheme, got)
    else:
        dpo_from_votes(ws, run_ids, got)
    if traces:
        from_traces(ws, kind.value, min_score, scheme, got)
    validation = validate_examples(got.examples, kind, model)
    estimate = estimate_training_cost(model, validation.tokens)
    return FinetuneExport(kind, model, min_score, got, validation, estimate, traces)


def write_finetune(export: FinetuneExport, path: Path | str) -> Path:
    """Write the export to `path` atomically and return it.

    Raises FinetuneError, writing nothing, when the export is empty (saying why) or fails
    a check (naming each problem and its first line).
    """
    reason = export.empty_reason
    if reason:
        raise FinetuneError(f"{reason}; no file written")
    if not export.validation.ok:
        raise FinetuneError(
            "the export fails OpenAI's checks, no file written: "
            + "; ".join(export.validation.describe())
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(export.text())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
