"""Blind pairwise comparisons: pairs with seeded sides, votes, and the standings.

Which variant is shown on which side comes from the session's seed and is stored with
the vote (`a_shown_left`); a vote records variants, not sides.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.errors import NotFoundError
from promptyard.ratings.access import require_rating, sees_variant_names
from promptyard.ratings.errors import RatingError
from promptyard.ratings.ratings import check_rater
from promptyard.ratings.sessions import SessionKind, _session_variants, _variant_filter, get_session
from promptyard.stats import bradley_terry, elo_like, wilson_interval
from promptyard.storage import db
from promptyard.storage.payloads import fill_payloads
from promptyard.storage.tables import Cell, CellStatus, LabelingSession, PairwiseVote, Variant
from promptyard.workspace import Workspace

CHOICES = ("a", "b", "tie", "both_bad")
SIDES = ("left", "right", "tie", "both_bad")


@dataclass(frozen=True)
class Pair:
    """Two outputs for one row; `a_shown_left` is the randomized side of variant A."""

    row_id: str
    cell_a_id: int
    cell_b_id: int
    variant_a_id: int
    variant_b_id: int
    a_shown_left: bool
    inputs: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    output_a: str | None = None
    output_b: str | None = None

    @property
    def left(self) -> str | None:
        return self.output_a if self.a_shown_left else self.output_b

    @property
    def right(self) -> str | None:
        return self.output_b if self.a_shown_left else self.output_a

    def choice_for(self, side: str) -> str:
        """The recorded choice ("a", "b", "tie", "both_bad") for a side the rater picked."""
        if side not in SIDES:
            raise RatingError(f"unknown choice {side!r}: use {', '.join(SIDES)}")
        if side in ("tie", "both_bad"):
            return side
        return "a" if (side == "left") == self.a_shown_left else "b"


def _side(seed: int, row_id: str, va: int, vb: int) -> bool:
    digest = hashlib.sha256(f"{seed}|{row_id}|{va}|{vb}".encode()).digest()
    return digest[0] % 2 == 0


def make_pairs(
    ws: Workspace, run_id: int, variant_ids: Sequence[int] | None = None, seed: int = 0
) -> list[Pair]:
    """Every pair of first-repeat, successful outputs for the same row under two variants,
    in a seeded random order, each with its side randomized by the seed."""
    with db.session(ws) as s:
        query = select(Cell.id, Cell.row_id, Cell.variant_id).where(
            Cell.run_id == run_id, Cell.repeat == 0, Cell.status == CellStatus.OK
        )
        if variant_ids:
            query = query.where(col(Cell.variant_id).in_(list(variant_ids)))
        rows = s.exec(query).all()
    by_row: dict[str, dict[int, int]] = {}
    for cell_id, row_id, variant_id in rows:
        by_row.setdefault(row_id, {})[int(variant_id)] = int(cell_id or 0)
    pairs = []
    for row_id in sorted(by_row):
        cells = by_row[row_id]
        for va, vb in itertools.combinations(sorted(cells), 2):
            pairs.append(Pair(row_id, cells[va], cells[vb], va, vb, _side(seed, row_id, va, vb)))
    random.Random(seed).shuffle(pairs)
    return pairs


def _row_order(ws: Workspace, sess: LabelingSession) -> list[str]:
    vf = _variant_filter(sess)
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                f"SELECT DISTINCT c.row_id FROM cell c WHERE c.run_id = :run AND c.repeat = 0 AND c.status = 'ok' {vf} ORDER BY c.row_id"
            ),
            params={"run": sess.run_id},
        ).all()
    order = [str(r[0]) for r in rows]
    random.Random(sess.seed).shuffle(order)
    return order


def _voted(ws: Workspace, session_id: int, rater: str) -> set[tuple[str, int, int]]:
    with db.session(ws) as s:
        rows = s.exec(
            select(PairwiseVote.row_id, PairwiseVote.variant_a_id, PairwiseVote.variant_b_id).where(
                PairwiseVote.session_id == session_id, PairwiseVote.rater == rater
            )
        ).all()
    return {(r, min(a, b), max(a, b)) for r, a, b in rows}


def next_pair(ws: Workspace, session_id: int, rater: str, skip: Sequence[str] = ()) -> Pair | None:
    """The next blind pair for this rater in a pairwise session (None when all are done).

    Rows come in the session's seeded order; `skip` holds row ids skipped for now.
    """
    name = check_rater(rater)
    sess = get_session(ws, session_id)
    if sess.kind != SessionKind.PAIRWISE:
        raise RatingError(f"session {session_id} is a rating session, not a pairwise one")
    voted = _voted(ws, session_id, name)
    variants = _session_variants(sess)
    if variants:
        n_variants = len(variants)
    else:
        with db.session(ws) as s:
            n_variants = len(s.exec(select(Variant.id).where(Variant.run_id == sess.run_id)).all())
    pairs_per_row = n_variants * (n_variants - 1) // 2
    # Rows whose every pair this rater voted on are passed without reading their cells.
    voted_per_row = Counter(row for row, _, _ in voted)
    skipped = set(skip)
    for row_id in _row_order(ws, sess):
        if row_id in skipped or voted_per_row[row_id] >= pairs_per_row:
            continue
        with db.session(ws) as s:
            query = select(Cell).where(
                Cell.run_id == sess.run_id,
                Cell.row_id == row_id,
                Cell.repeat == 0,
                Cell.status == CellStatus.OK,
            )
            if variants:
                query = query.where(col(Cell.variant_id).in_(variants))
            cells = {c.variant_id: c for c in s.exec(query).all()}
            fill_payloads(s, cells.values())
        combos = list(itertools.combinations(sorted(cells), 2))
        random.Random(f"{sess.seed}|{row_id}").shuffle(combos)
        for va, vb in combos:
            if (row_id, va, vb) in voted:
                continue
            a, b = cells[va], cells[vb]
            return Pair(
                row_id,
                int(a.id or 0),
                int(b.id or 0),
                va,
                vb,
                _side(sess.seed, row_id, va, vb),
                inputs=json.loads(a.inputs_json or "{}"),
                reference=a.reference,
                output_a=a.output,
                output_b=b.output,
            )
    return None


def pairwise_progress(ws: Workspace, session_id: int, rater: str) -> tuple[int, int]:
    """(pairs this rater voted on, pairs in the session)."""
    sess = get_session(ws, session_id)
    pairs = make_pairs(ws, sess.run_id, _session_variants(sess) or None, sess.seed)
    return len(_voted(ws, session_id, check_rater(rater))), len(pairs)


def record_vote(
    ws: Workspace, pair: Pair, choice: str, rater: str, session_id: int | None = None
) -> PairwiseVote:
    """Store a blind choice ("a", "b", "tie", "both_bad" — of variants, not sides)."""
    name = check_rater(rater)
    require_rating(ws, session_id, "vote")
    if choice not in CHOICES:
        raise RatingError(f"unknown choice {choice!r}: use {', '.join(CHOICES)}")

    def _write(s: Session) -> PairwiseVote:
        a, b = s.get(Cell, pair.cell_a_id), s.get(Cell, pair.cell_b_id)
        if a is None or b is None:
            missing = pair.cell_a_id if a is None else pair.cell_b_id
            raise NotFoundError(f"cell {missing} does not exist (was its run deleted?)")
        if a.run_id != b.run_id or a.row_id != b.row_id:
            raise RatingError("a pair must be two outputs for the same row of one run")
        if a.variant_id != pair.variant_a_id or b.variant_id != pair.variant_b_id:
            raise RatingError("the pair's variants do not match its cells")
        vote = PairwiseVote(
            run_id=a.run_id,
            row_id=a.row_id,
            cell_a_id=pair.cell_a_id,
            cell_b_id=pair.cell_b_id,
            variant_a_id=pair.variant_a_id,
            variant_b_id=pair.variant_b_id,
            a_shown_left=pair.a_shown_left,
            choice=choice,
            rater=name,
            session_id=session_id,
        )
        s.add(vote)
        s.flush()
        return vote

    return db.write(ws, _write)


@dataclass(frozen=True)
class VariantStanding:
    """One variant's record in the blind votes, with its win rate and Bradley-Terry score."""

    variant_id: int
    label: str
    comparisons: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: float  # (wins + ties / 2) / comparisons
    ci_low: float | None  # the Wilson 95% interval; None where undefined (no comparisons)
    ci_high: float | None
    bt_strength: float  # Bradley-Terry strength, summing to 1 over variants
    bt_elo: float  # the same on an Elo-like scale around 1000


def pairwise_results(
    ws: Workspace, run_id: int, session_id: int | None = None
) -> list[VariantStanding]:
    """Win rates with Wilson 95% intervals and Bradley-Terry scores per variant, best first.

    A tie or "both bad" counts as half a win for each side.
    """
    with db.session(ws) as s:
        query = select(PairwiseVote).where(PairwiseVote.run_id == run_id)
        if session_id is not None:
            query = query.where(PairwiseVote.session_id == session_id)
        votes = s.exec(query).all()
        variants = {v.id: v for v in s.exec(select(Variant).where(Variant.run_id == run_id)).all()}
    seen = sorted({v.variant_a_id for v in votes} | {v.variant_b_id for v in votes})
    index = {vid: i for i, vid in enumerate(seen)}
    k = len(seen)
    wins = np.zeros((k, k))
    tally = {vid: {"n": 0, "w": 0, "l": 0, "t": 0, "bb": 0} for vid in seen}
    for v in votes:
        a, b = index[v.variant_a_id], index[v.variant_b_id]
        tally[v.variant_a_id]["n"] += 1
        tally[v.variant_b_id]["n"] += 1
        if v.choice == "a":
            wins[a, b] += 1
            tally[v.variant_a_id]["w"] += 1
            tally[v.variant_b_id]["l"] += 1
        elif v.choice == "b":
            wins[b, a] += 1
            tally[v.variant_b_id]["w"] += 1
            tally[v.variant_a_id]["l"] += 1
        else:
            wins[a, b] += 0.5
            wins[b, a] += 0.5
            key = "t" if v.choice == "tie" else "bb"
            tally[v.variant_a_id][key] += 1
            tally[v.variant_b_id][key] += 1
    strengths = bradley_terry(wins)
    elos = elo_like(strengths)
    named = sees_variant_names(ws)
    out = []
    for position, vid in enumerate(seen):
        t = tally[vid]
        points = t["w"] + 0.5 * (t["t"] + t["bb"])
        low, high = wilson_interval(points, t["n"])
        variant = variants.get(vid)
        out.append(
            VariantStanding(
                variant_id=vid,
                label=(variant.label if variant else f"variant {vid}")
                if named
                else f"variant {chr(ord('A') + position % 26)}",
                comparisons=t["n"],
                wins=t["w"],
                losses=t["l"],
                ties=t["t"],
                both_bad=t["bb"],
                win_rate=points / t["n"] if t["n"] else 0.0,
                ci_low=None if math.isnan(low) else low,
                ci_high=None if math.isnan(high) else high,
                bt_strength=float(strengths[index[vid]]),
                bt_elo=float(elos[index[vid]]),
            )
        )
    return sorted(out, key=lambda x: -x.bt_strength)
