"""Human judgement: rating schemes, ratings with history, labeling sessions, blind pairs.

Schemes live in the workspace's git-versioned `ratings.yaml`; a rating records the commit
sha of that file (`scheme_version`). A changed rating is a new row and the old one points
at it (`superseded_by`), so the history of every judgement stays. Two raters rating the
same cell are two ratings; both are kept. Agreement between raters is in
`promptyard.ratings.agreement`; the statistics themselves in `promptyard.stats`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from sqlalchemy import text
from sqlmodel import Session, col, select

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.stats import bradley_terry, elo_like, wilson_interval
from promptyard.storage import db
from promptyard.storage.tables import (
    Cell,
    CellStatus,
    LabelingSession,
    PairwiseVote,
    Rating,
    Run,
    Variant,
)
from promptyard.workspace import Workspace

RATINGS_FILE = "ratings.yaml"
KINDS = ("numeric", "boolean", "categorical", "text")
CHOICES = ("a", "b", "tie", "both_bad")
SIDES = ("left", "right", "tie", "both_bad")
RATER_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 10_000
_SCHEME_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,49}$")

DEFAULT_RATINGS_YAML = """\
# Rating schemes: how people judge outputs on the Compare and Rate pages.
# Kinds: numeric (min..max), boolean (thumbs), categorical (labels; multiple: true for
# several), text (a free comment). Edit here or on the Settings page; every save is a commit.
schemes:
  - name: quality
    kind: numeric
    min: 1
    max: 5
    instructions: >-
      How good is this answer for the input? 1 = useless or wrong, 3 = acceptable with
      flaws, 5 = exactly what a careful expert would write. Compare with the reference
      when there is one.
  - name: thumbs
    kind: boolean
    instructions: Would you ship this answer to a user as it is?
  - name: issues
    kind: categorical
    multiple: true
    labels: [hallucination, off-topic, incomplete, too long, wrong format, unsafe]
    instructions: Tick every problem you see. Leave it unrated when there is none.
  - name: comment
    kind: text
    instructions: Anything a prompt engineer should know about this output.
"""


class SchemeError(PromptyardError):
    """ratings.yaml is malformed: the message names the file, the line and the field."""


class RatingError(PromptyardError):
    """A rating that cannot be stored: unknown scheme, value out of range, bad rater."""


# --- schemes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingScheme:
    """One way of judging an output, with the instructions shown to raters."""

    name: str
    kind: str
    instructions: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    labels: tuple[str, ...] = ()
    multiple: bool = False
    label_scores: dict[str, float] = field(default_factory=dict)

    @property
    def options(self) -> list[Any]:
        """The values a rater picks from: numbers of a numeric range, labels, or booleans."""
        if self.kind == "numeric" and self.min is not None and self.max is not None:
            step = self.step or 1
            count = int(round((self.max - self.min) / step)) + 1
            if count <= 21:
                return [_num(self.min + i * step) for i in range(count)]
            return []
        if self.kind == "boolean":
            return [True, False]
        if self.kind == "categorical":
            return list(self.labels)
        return []

    @property
    def level(self) -> str:
        """The measurement level agreement is computed at: interval, nominal or none."""
        if self.kind == "numeric":
            return "interval"
        if self.kind == "text":
            return "none"
        return "nominal"

    def describe(self) -> str:
        if self.kind == "numeric":
            return f"numeric {_num(self.min)} to {_num(self.max)}"
        if self.kind == "categorical":
            many = "one or more of" if self.multiple else "one of"
            return f"{many}: {', '.join(self.labels)}"
        return {"boolean": "thumbs up or down", "text": "free text"}[self.kind]

    def validate_value(self, value: Any) -> Any:
        """The value normalized for storage; RatingError says why it is refused."""
        where = f"scheme {self.name!r}"
        if self.kind == "numeric":
            number = _as_number(value)
            if number is None:
                raise RatingError(
                    f"{where} takes a number from {_num(self.min)} to {_num(self.max)}, got {value!r}"
                )
            assert self.min is not None and self.max is not None
            if not self.min <= number <= self.max:
                raise RatingError(
                    f"{where}: {_num(number)} is out of range {_num(self.min)} to {_num(self.max)}"
                )
            if self.step:
                steps = (number - self.min) / self.step
                if abs(steps - round(steps)) > 1e-9:
                    raise RatingError(
                        f"{where}: {_num(number)} is not a multiple of step {_num(self.step)} from {_num(self.min)}"
                    )
            return _num(number)
        if self.kind == "boolean":
            flag = _as_bool(value)
            if flag is None:
                raise RatingError(f"{where} takes thumbs up or down (true/false), got {value!r}")
            return flag
        if self.kind == "categorical":
            chosen = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
            if not chosen:
                raise RatingError(f"{where}: pick at least one label")
            if not self.multiple and len(chosen) != 1:
                raise RatingError(f"{where} takes one label, got {len(chosen)}")
            unknown = [c for c in chosen if c not in self.labels]
            if unknown:
                raise RatingError(
                    f"{where} has no label {unknown[0]!r} (labels: {', '.join(self.labels)})"
                )
            ordered = [label for label in self.labels if label in chosen]
            return ordered if self.multiple else ordered[0]
        if not isinstance(value, str) or not value.strip():
            raise RatingError(f"{where} takes a non-empty text")
        if len(value) > TEXT_MAX_LENGTH:
            raise RatingError(
                f"{where}: text is {len(value)} characters; the limit is {TEXT_MAX_LENGTH}"
            )
        return value.strip()

    def score(self, value: Any) -> float | None:
        """A validated value on 0..1 for charts; None where the scheme has no order."""
        if self.kind == "numeric":
            assert self.min is not None and self.max is not None
            return (float(value) - self.min) / (self.max - self.min)
        if self.kind == "boolean":
            return 1.0 if value else 0.0
        if self.kind == "categorical" and self.label_scores:
            chosen = value if isinstance(value, list) else [value]
            scores = [self.label_scores[c] for c in chosen if c in self.label_scores]
            return min(scores) if scores else None
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "numeric":
            out.update(min=_num(self.min), max=_num(self.max))
            if self.step and self.step != 1:
                out["step"] = _num(self.step)
        if self.kind == "categorical":
            out["labels"] = list(self.labels)
            if self.multiple:
                out["multiple"] = True
            if self.label_scores:
                out["label_scores"] = dict(self.label_scores)
        if self.instructions:
            out["instructions"] = self.instructions
        return out


def _num(x: Any) -> Any:
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "yes", "up", "1", "👍", "thumbs up"):
            return True
        if low in ("false", "no", "down", "0", "👎", "thumbs down"):
            return False
    return None


def parse_schemes(source: str, filename: str = RATINGS_FILE) -> list[RatingScheme]:
    """Rating schemes from the text of ratings.yaml; SchemeError names file, line, field."""
    try:
        node = yaml.compose(source)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}, line {mark.line + 1}, column {mark.column + 1}" if mark else filename
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SchemeError(f"{where}: {problem}") from None
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("schemes"), list):
        raise SchemeError(f"{filename}, line 1: expected a mapping with a 'schemes:' list")
    lines = _item_lines(node)
    schemes: list[RatingScheme] = []
    seen: set[str] = set()
    for i, item in enumerate(data["schemes"]):
        line = lines[i] if i < len(lines) else 1
        scheme = _parse_one(item, f"{filename}, line {line}, scheme #{i + 1}")
        if scheme.name in seen:
            raise SchemeError(f"{filename}, line {line}: scheme name {scheme.name!r} is used twice")
        seen.add(scheme.name)
        schemes.append(scheme)
    return schemes


def _item_lines(node: Any) -> list[int]:
    try:
        for key, value in node.value:
            if key.value == "schemes":
                return [item.start_mark.line + 1 for item in value.value]
    except (AttributeError, TypeError):
        pass
    return []


def _parse_one(item: Any, where: str) -> RatingScheme:
    if not isinstance(item, dict):
        raise SchemeError(f"{where}: expected a mapping with name and kind")
    known = {
        "name",
        "kind",
        "instructions",
        "min",
        "max",
        "step",
        "labels",
        "multiple",
        "label_scores",
    }
    extra = sorted(set(item) - known)
    if extra:
        raise SchemeError(
            f"{where}: unknown field {extra[0]!r} (fields: {', '.join(sorted(known))})"
        )
    name = item.get("name")
    if not isinstance(name, str) or not _SCHEME_NAME.match(name):
        raise SchemeError(
            f"{where}: field 'name' must be 1-50 letters, digits, '_' or '-', starting with a letter; got {name!r}"
        )
    where = f"{where} ({name})"
    kind = item.get("kind")
    if kind not in KINDS:
        raise SchemeError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}; got {kind!r}")
    instructions = item.get("instructions") or ""
    if not isinstance(instructions, str):
        raise SchemeError(f"{where}: field 'instructions' must be text")
    if kind == "numeric":
        numbers: dict[str, float] = {}
        for fname, v in (
            ("min", item.get("min")),
            ("max", item.get("max")),
            ("step", item.get("step", 1)),
        ):
            number = None if isinstance(v, str) else _as_number(v)
            if number is None:
                raise SchemeError(f"{where}: field {fname!r} must be a number; got {v!r}")
            numbers[fname] = number
        lo, hi, step = numbers["min"], numbers["max"], numbers["step"]
        if not hi > lo:
            raise SchemeError(
                f"{where}: field 'max' ({_num(hi)}) must be greater than 'min' ({_num(lo)})"
            )
        if float(step) <= 0:
            raise SchemeError(f"{where}: field 'step' must be positive")
        return RatingScheme(name, kind, instructions.strip(), float(lo), float(hi), float(step))
    if kind == "categorical":
        labels = item.get("labels")
        if not isinstance(labels, list) or not labels:
            raise SchemeError(f"{where}: field 'labels' must be a non-empty list")
        clean = [str(x).strip() for x in labels]
        if any(not x for x in clean) or len(set(clean)) != len(clean):
            raise SchemeError(f"{where}: field 'labels' must hold distinct, non-empty labels")
        multiple = item.get("multiple", False)
        if not isinstance(multiple, bool):
            raise SchemeError(f"{where}: field 'multiple' must be true or false")
        raw_scores = item.get("label_scores") or {}
        if not isinstance(raw_scores, dict):
            raise SchemeError(f"{where}: field 'label_scores' must map labels to numbers 0..1")
        scores: dict[str, float] = {}
        for label, v in raw_scores.items():
            number = _as_number(v)
            if str(label) not in clean or number is None or not 0 <= number <= 1:
                raise SchemeError(
                    f"{where}: field 'label_scores': {label!r} must be a label with a score from 0 to 1"
                )
            scores[str(label)] = number
        return RatingScheme(
            name,
            kind,
            instructions.strip(),
            labels=tuple(clean),
            multiple=multiple,
            label_scores=scores,
        )
    for fname in ("min", "max", "step", "labels", "multiple", "label_scores"):
        if fname in item:
            raise SchemeError(f"{where}: field {fname!r} does not apply to a {kind} scheme")
    return RatingScheme(name, kind, instructions.strip())


def dump_schemes(schemes: Sequence[RatingScheme]) -> str:
    """ratings.yaml text for `schemes` (comments are not kept)."""
    body = yaml.safe_dump(
        {"schemes": [s.to_dict() for s in schemes]}, sort_keys=False, allow_unicode=True, width=88
    )
    return "# Rating schemes: how people judge outputs. Every save is a commit.\n" + body


def ratings_text(ws: Workspace) -> str:
    """The text of the workspace's ratings.yaml, or the default when it has none."""
    path = ws.ratings_file
    return path.read_text(encoding="utf-8") if path.is_file() else DEFAULT_RATINGS_YAML


def load_schemes(ws: Workspace) -> list[RatingScheme]:
    """The workspace's rating schemes (the defaults when ratings.yaml does not exist)."""
    return parse_schemes(ratings_text(ws))


def get_scheme(ws: Workspace, name: str) -> RatingScheme:
    """The scheme named `name`; RatingError lists the known ones when there is none."""
    schemes = load_schemes(ws)
    for scheme in schemes:
        if scheme.name == name:
            return scheme
    known = ", ".join(s.name for s in schemes) or "none"
    raise RatingError(f"unknown rating scheme {name!r} (schemes in {RATINGS_FILE}: {known})")


def save_schemes(
    ws: Workspace,
    source: str,
    message: str = "",
    base: str | None = None,
    author: str | None = None,
) -> Any:
    """Validate `source` as ratings.yaml and commit it; returns the store's Version.

    Nothing is written when it does not validate. `base` is the sha the edit started
    from: a newer version raises the store's ConflictError.
    """
    from promptyard.versioning.store import Store

    parse_schemes(source)
    if not source.endswith("\n"):
        source += "\n"
    return Store(ws).save(
        RATINGS_FILE, source, message or "Update rating schemes", base=base, author=author
    )


def scheme_version(ws: Workspace) -> str | None:
    """The commit sha of the current ratings.yaml (None when it was never committed)."""
    from promptyard.versioning.store import Store

    try:
        versions = Store(ws).history(RATINGS_FILE)
    except PromptyardError:
        return None
    return versions[-1].sha if versions and not versions[-1].deleted else None


# --- ratings ---------------------------------------------------------------------------


def check_rater(rater: str | None) -> str:
    """The rater's name, stripped; RatingError when it is empty or too long."""
    name = (rater or "").strip()
    if not name:
        raise RatingError("say who is rating: the rater's name is empty")
    if len(name) > RATER_MAX_LENGTH:
        raise RatingError(f"rater name is {len(name)} characters; the limit is {RATER_MAX_LENGTH}")
    return name


def rate_cell(
    ws: Workspace,
    cell_id: int,
    scheme: str,
    value: Any,
    rater: str,
    comment: str | None = None,
    session_id: int | None = None,
) -> Rating:
    """Store `rater`'s judgement of a cell under `scheme` and return the new Rating.

    Refused with a RatingError or NotFoundError (nothing stored) when the cell does not
    exist, the scheme is unknown, or the value does not fit the scheme. A rater's earlier
    rating of the same cell and scheme is kept, pointing at this one.
    """
    name = check_rater(rater)
    found = get_scheme(ws, scheme)
    clean = found.validate_value(value)
    version = scheme_version(ws)
    note = (comment or "").strip() or None

    def _write(s: Session) -> Rating:
        cell = s.get(Cell, cell_id)
        if cell is None:
            raise NotFoundError(f"cell {cell_id} does not exist (was its run deleted?)")
        if session_id is not None and s.get(LabelingSession, session_id) is None:
            raise NotFoundError(f"labeling session {session_id} does not exist")
        previous = s.exec(
            select(Rating).where(
                Rating.cell_id == cell_id,
                Rating.scheme == found.name,
                Rating.rater == name,
                col(Rating.superseded_by).is_(None),
            )
        ).all()
        rating = Rating(
            cell_id=cell_id,
            run_id=cell.run_id,
            scheme=found.name,
            scheme_version=version,
            rater=name,
            value_json=json.dumps(clean, ensure_ascii=False),
            score=found.score(clean),
            comment=note,
            session_id=session_id,
        )
        s.add(rating)
        s.flush()
        for old in previous:
            old.superseded_by = rating.id
            s.add(old)
        return rating

    return db.write(ws, _write)


def rating_value(rating: Rating) -> Any:
    """The value a Rating holds, as given (number, bool, label, labels or text)."""
    return json.loads(rating.value_json)


def rating_history(
    ws: Workspace, cell_id: int, scheme: str | None = None, rater: str | None = None
) -> list[Rating]:
    """Every rating of a cell, oldest first, superseded ones included."""
    with db.session(ws) as s:
        query = select(Rating).where(Rating.cell_id == cell_id)
        if scheme:
            query = query.where(Rating.scheme == scheme)
        if rater:
            query = query.where(Rating.rater == rater)
        return list(s.exec(query.order_by(col(Rating.id))).all())


def current_ratings(
    ws: Workspace,
    run_id: int | None = None,
    scheme: str | None = None,
    cell_ids: Sequence[int] | None = None,
    rater: str | None = None,
) -> list[Rating]:
    """The ratings in force (not superseded), by run, scheme, cells or rater."""
    with db.session(ws) as s:
        query = select(Rating).where(col(Rating.superseded_by).is_(None))
        if run_id is not None:
            query = query.where(Rating.run_id == run_id)
        if scheme:
            query = query.where(Rating.scheme == scheme)
        if cell_ids is not None:
            query = query.where(col(Rating.cell_id).in_(list(cell_ids)))
        if rater:
            query = query.where(Rating.rater == rater)
        return list(s.exec(query.order_by(col(Rating.id))).all())


def rating_counts(ws: Workspace, run_id: int) -> dict[str, int]:
    """Current ratings per scheme, plus pairwise votes under the key 'pairwise'."""
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT scheme, COUNT(*) FROM rating WHERE run_id = :r AND superseded_by IS NULL "
                "GROUP BY scheme"
            ),
            params={"r": run_id},
        ).all()
        votes = s.exec(  # type: ignore[call-overload]
            text("SELECT COUNT(*) FROM pairwise_vote WHERE run_id = :r"), params={"r": run_id}
        ).one()[0]
    out = {str(name): int(n) for name, n in rows}
    out["pairwise"] = int(votes)
    return out


def export_ratings(ws: Workspace, run_id: int, fmt: str = "csv", history: bool = False) -> str:
    """Every rating of a run as CSV or JSONL: cell, variant, scheme and its version, rater,
    value, score, time. Only ratings in force unless `history`."""
    if fmt not in ("csv", "jsonl"):
        raise PromptyardError(f"unknown export format {fmt!r}: use csv or jsonl")
    with db.session(ws) as s:
        if s.get(Run, run_id) is None:
            raise NotFoundError(f"run {run_id} does not exist")
        query = (
            select(Rating, Cell, Variant)
            .join(Cell, col(Cell.id) == Rating.cell_id)
            .join(Variant, col(Variant.id) == Cell.variant_id)
            .where(Rating.run_id == run_id)
        )
        if not history:
            query = query.where(col(Rating.superseded_by).is_(None))
        rows = s.exec(query.order_by(col(Rating.id))).all()
    records = [
        {
            "rating_id": r.id,
            "run_id": r.run_id,
            "cell_id": r.cell_id,
            "row_id": c.row_id,
            "repeat": c.repeat,
            "variant_id": v.id,
            "variant": v.label,
            "prompt": v.prompt_name,
            "prompt_version": v.prompt_version,
            "model": v.model,
            "scheme": r.scheme,
            "scheme_version": r.scheme_version,
            "rater": r.rater,
            "value": rating_value(r),
            "score": r.score,
            "comment": r.comment,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "session_id": r.session_id,
            "superseded_by": r.superseded_by,
        }
        for r, c, v in rows
    ]
    return to_text(records, fmt)


def to_text(records: list[dict[str, Any]], fmt: str) -> str:
    """Records as JSONL, or CSV with nested values written as JSON."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    buf = io.StringIO()
    if records:
        writer = csv.DictWriter(buf, fieldnames=list(records[0]))
        writer.writeheader()
        for r in records:
            writer.writerow(
                {
                    k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict | bool) else v
                    for k, v in r.items()
                }
            )
    return buf.getvalue()


# --- labeling sessions -----------------------------------------------------------------


@dataclass(frozen=True)
class SessionItem:
    """One cell as a rater sees it in a session: no variant name, the rater's own value."""

    cell_id: int
    row_id: str
    inputs: dict[str, Any]
    reference: str | None
    output: str | None
    value: Any = None  # this rater's rating in force, None when not rated yet
    comment: str | None = None


@dataclass(frozen=True)
class SessionProgress:
    total: int  # cells in the session
    rated_by_me: int
    remaining_for_me: int  # cells still wanting a rating from this rater
    complete: int  # cells with the k ratings asked for

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else 1 - self.remaining_for_me / self.total


def _options_json(variant_ids: Sequence[int] | None) -> str:
    options: dict[str, Any] = {}
    if variant_ids:
        options["variant_ids"] = sorted(int(v) for v in variant_ids)
    return json.dumps(options, sort_keys=True)


def _session_query(run_id: int, kind: str, scheme: str | None, options_json: str) -> Any:
    query = select(LabelingSession).where(
        LabelingSession.run_id == run_id,
        LabelingSession.kind == kind,
        LabelingSession.options_json == options_json,
    )
    query = query.where(
        LabelingSession.scheme == scheme if scheme else col(LabelingSession.scheme).is_(None)
    )
    return query.order_by(col(LabelingSession.id))


def find_session(
    ws: Workspace,
    run_id: int,
    kind: str = "rate",
    scheme: str | None = None,
    variant_ids: Sequence[int] | None = None,
) -> LabelingSession | None:
    """The session raters of this run, kind, scheme (and variants) share, if one exists."""
    scheme = scheme if kind == "rate" else None
    with db.session(ws) as s:
        found: LabelingSession | None = s.exec(
            _session_query(run_id, kind, scheme, _options_json(variant_ids))
        ).first()
    return found


def open_session(
    ws: Workspace,
    run_id: int,
    kind: str = "rate",
    scheme: str | None = None,
    raters_per_cell: int = 1,
    variant_ids: Sequence[int] | None = None,
    seed: int = 0,
    created_by: str | None = None,
) -> LabelingSession:
    """The session for this run, kind, scheme (and variants): the existing one, so every
    rater joins it and resumes, else a new one with `raters_per_cell` and `seed`."""
    if kind not in ("rate", "pairwise"):
        raise PromptyardError(f"unknown session kind {kind!r}: use rate or pairwise")
    scheme = scheme if kind == "rate" else None
    if kind == "rate":
        if not scheme:
            raise RatingError("a rating session needs a scheme")
        get_scheme(ws, scheme)
    if raters_per_cell < 1:
        raise RatingError("raters per cell must be at least 1")
    options_json = _options_json(variant_ids)

    def _write(s: Session) -> LabelingSession:
        run = s.get(Run, run_id)
        if run is None:
            raise NotFoundError(f"run {run_id} does not exist")
        if variant_ids:
            known = set(s.exec(select(Variant.id).where(Variant.run_id == run_id)).all())
            missing = sorted(set(variant_ids) - known)
            if missing:
                raise NotFoundError(f"run {run_id} has no variant {missing[0]}")
            if kind == "pairwise" and len(set(variant_ids)) < 2:
                raise RatingError("a blind pairwise session needs two variants")
        existing = s.exec(_session_query(run_id, kind, scheme, options_json)).first()
        if existing is not None:
            return existing
        session_row = LabelingSession(
            run_id=run_id,
            kind=kind,
            scheme=scheme if kind == "rate" else None,
            raters_per_cell=raters_per_cell,
            seed=seed,
            created_by=created_by,
            options_json=options_json,
        )
        s.add(session_row)
        s.flush()
        return session_row

    return db.write(ws, _write)


def get_session(ws: Workspace, session_id: int) -> LabelingSession:
    with db.session(ws) as s:
        found = s.get(LabelingSession, session_id)
    if found is None:
        raise NotFoundError(f"labeling session {session_id} does not exist")
    return found


def _session_variants(sess: LabelingSession) -> list[int]:
    return [int(v) for v in json.loads(sess.options_json or "{}").get("variant_ids", [])]


_ELIGIBLE = """
FROM cell c
WHERE c.run_id = :run AND c.status = 'ok' {variant_filter}
"""

# Ratings in force per cell: how many raters, and whether :rater is one. A rater has at
# most one rating in force per cell and scheme (rate_cell supersedes in one transaction).
_PER_CELL = """
SELECT r.cell_id AS cell_id, COUNT(*) AS n, MAX(CASE WHEN r.rater = :rater THEN 1 ELSE 0 END) AS mine
FROM rating r WHERE r.run_id = :run AND r.scheme = :scheme AND r.superseded_by IS NULL
GROUP BY r.cell_id
"""

# Computed once, not per cell, so the walk costs one lookup per cell it passes.
_NOT_DONE = f"""
  AND c.id NOT IN (SELECT cell_id FROM ({_PER_CELL}) AS per WHERE per.n >= :k OR per.mine = 1)
"""


def _variant_filter(sess: LabelingSession) -> str:
    ids = _session_variants(sess)
    return f"AND c.variant_id IN ({', '.join(str(i) for i in ids)})" if ids else ""


def next_cell(
    ws: Workspace, session_id: int, rater: str, skip: Sequence[int] = ()
) -> SessionItem | None:
    """The next cell this rater should rate, or None when the session is done for them.

    Cells come in dataset order; a cell is due when this rater has not rated it and it
    has fewer than the session's k raters. `skip` holds cells skipped for now.
    """
    name = check_rater(rater)
    sess = get_session(ws, session_id)
    skipped = "".join(f" AND c.id != {int(i)}" for i in skip)
    sql = (
        "SELECT c.id "
        + _ELIGIBLE.format(variant_filter=_variant_filter(sess))
        + _NOT_DONE
        + skipped
        # dataset order; ix_cell_run_order lets the walk stop at the first cell due
        + " ORDER BY c.row_index, c.variant_id, c.repeat LIMIT 1"
    )
    params = {"run": sess.run_id, "scheme": sess.scheme, "rater": name, "k": sess.raters_per_cell}
    with db.session(ws) as s:
        row = s.exec(text(sql), params=params).first()  # type: ignore[call-overload]
    if row is None:
        return None
    return session_item(ws, session_id, name, int(row[0]))


def session_item(ws: Workspace, session_id: int, rater: str, cell_id: int) -> SessionItem:
    """Cell `cell_id` as rater sees it in the session, with their rating in force."""
    sess = get_session(ws, session_id)
    with db.session(ws) as s:
        cell = s.get(Cell, cell_id)
        if cell is None or cell.run_id != sess.run_id:
            raise NotFoundError(f"cell {cell_id} is not in this session's run")
        mine = s.exec(
            select(Rating).where(
                Rating.cell_id == cell_id,
                Rating.scheme == (sess.scheme or ""),
                Rating.rater == rater.strip(),
                col(Rating.superseded_by).is_(None),
            )
        ).first()
    return SessionItem(
        cell_id=cell_id,
        row_id=cell.row_id,
        inputs=json.loads(cell.inputs_json or "{}"),
        reference=cell.reference,
        output=cell.output,
        value=rating_value(mine) if mine else None,
        comment=mine.comment if mine else None,
    )


def previous_cell(
    ws: Workspace, session_id: int, rater: str, current_cell_id: int | None = None
) -> SessionItem | None:
    """The cell this rater rated in the session before `current_cell_id` (the last one
    rated when the current cell is new), or None at the start."""
    name = check_rater(rater)
    with db.session(ws) as s:
        rows = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT cell_id FROM rating WHERE session_id = :sid AND rater = :rater "
                "GROUP BY cell_id ORDER BY MIN(id)"
            ),
            params={"sid": session_id, "rater": name},
        ).all()
    order = [int(r[0]) for r in rows]
    if current_cell_id in order:
        at = order.index(current_cell_id)
        return session_item(ws, session_id, name, order[at - 1]) if at > 0 else None
    return session_item(ws, session_id, name, order[-1]) if order else None


def session_progress(ws: Workspace, session_id: int, rater: str) -> SessionProgress:
    """How far the session is, for this rater and overall."""
    name = check_rater(rater)
    sess = get_session(ws, session_id)
    vf = _variant_filter(sess)
    params = {"run": sess.run_id, "scheme": sess.scheme, "rater": name, "k": sess.raters_per_cell}
    with db.session(ws) as s:
        total = s.exec(
            text("SELECT COUNT(*) " + _ELIGIBLE.format(variant_filter=vf)), params=params
        ).one()[0]  # type: ignore[call-overload]
        ineligible = "c.status != 'ok'" + (
            f" OR c.variant_id NOT IN ({', '.join(str(i) for i in _session_variants(sess))})"
            if vf
            else ""
        )
        stats = s.exec(  # type: ignore[call-overload]
            text(
                "SELECT COUNT(*), COALESCE(SUM(mine), 0),"
                " COALESCE(SUM(CASE WHEN n >= :k THEN 1 ELSE 0 END), 0),"
                " COALESCE(SUM(CASE WHEN mine > 0 OR n >= :k THEN 1 ELSE 0 END), 0)"
                f" FROM ({_PER_CELL}) AS per WHERE per.cell_id NOT IN"
                f" (SELECT c.id FROM cell c WHERE c.run_id = :run AND ({ineligible}))"
            ),
            params=params,
        ).one()
    _, mine, complete, done_for_me = (int(x) for x in stats)
    return SessionProgress(
        total=int(total),
        rated_by_me=mine,
        remaining_for_me=int(total) - done_for_me,
        complete=complete,
    )


# --- blind pairwise --------------------------------------------------------------------


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
    if sess.kind != "pairwise":
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
    variant_id: int
    label: str
    comparisons: int
    wins: int
    losses: int
    ties: int
    both_bad: int
    win_rate: float  # (wins + ties / 2) / comparisons
    ci_low: float
    ci_high: float
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
    out = []
    for vid in seen:
        t = tally[vid]
        points = t["w"] + 0.5 * (t["t"] + t["bb"])
        low, high = wilson_interval(points, t["n"])
        variant = variants.get(vid)
        out.append(
            VariantStanding(
                variant_id=vid,
                label=variant.label if variant else f"variant {vid}",
                comparisons=t["n"],
                wins=t["w"],
                losses=t["l"],
                ties=t["t"],
                both_bad=t["bb"],
                win_rate=points / t["n"] if t["n"] else 0.0,
                ci_low=low,
                ci_high=high,
                bt_strength=float(strengths[index[vid]]),
                bt_elo=float(elos[index[vid]]),
            )
        )
    return sorted(out, key=lambda x: -x.bt_strength)
