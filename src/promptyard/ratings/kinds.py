"""The kinds of rating scheme, one class each, registered by kind name.

A kind knows how its fields are read from ratings.yaml (`parse`), how a raw value becomes
its type (`coerce`), which values it accepts (`validate`), how it reads to a person
(`describe`), the values a rater picks from (`options`), its 0..1 score for charts
(`score`) and its fields in ratings.yaml again (`to_dict`). Adding a kind is a class with
`@register_kind`, not an edit of every function that looks at a scheme.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from promptyard.ratings.errors import RatingError, SchemeError

TEXT_MAX_LENGTH = 10_000


class RatingKind(StrEnum):
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    CATEGORICAL = "categorical"
    TEXT = "text"


class SchemeFields(Protocol):
    """What a kind reads of a scheme (RatingScheme has these fields)."""

    @property
    def name(self) -> str: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...
    @property
    def step(self) -> float | None: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def multiple(self) -> bool: ...
    @property
    def label_scores(self) -> dict[str, float]: ...


# The fields of ratings.yaml that belong to one kind or another.
KIND_FIELDS = ("min", "max", "step", "level", "labels", "multiple", "label_scores")


class Kind:
    """One kind of rating scheme. Subclasses set `name` and override what differs."""

    name: ClassVar[str]  # the `kind:` of ratings.yaml (a RatingKind for the built-in ones)
    # The measurement level agreement is computed at by default ("none": no agreement).
    default_level: ClassVar[str] = "nominal"
    levels: ClassVar[tuple[str, ...]] = ("nominal",)

    def parse(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        """The RatingScheme fields of this kind from a ratings.yaml mapping."""
        for fname in KIND_FIELDS:
            if fname in item:
                raise SchemeError(
                    f"{where}: field {fname!r} does not apply to a {self.name} scheme"
                )
        return {}

    def coerce(self, value: Any) -> Any:
        """`value` as this kind's type (a string from a form or the CLI included), or None."""
        return value

    def validate(self, scheme: SchemeFields, value: Any) -> Any:
        """The value normalized for storage; RatingError says why it is refused."""
        raise NotImplementedError

    def describe(self, scheme: SchemeFields) -> str:
        raise NotImplementedError

    def options(self, scheme: SchemeFields) -> list[Any]:
        """The values a rater picks from; empty when they type one."""
        return []

    def score(self, scheme: SchemeFields, value: Any) -> float | None:
        """A validated value on 0..1 for charts; None where the kind has no order."""
        return None

    def to_dict(self, scheme: SchemeFields) -> dict[str, Any]:
        """This kind's fields of `scheme` as written in ratings.yaml."""
        return {}


KINDS_BY_NAME: dict[str, Kind] = {}


def register_kind(cls: type[Kind]) -> type[Kind]:
    """Class decorator: make `cls` the kind of schemes whose `kind:` is `cls.name`."""
    KINDS_BY_NAME[str(cls.name)] = cls()
    return cls


def kind_of(name: str) -> Kind:
    """The registered kind called `name`; KeyError when there is none."""
    return KINDS_BY_NAME[str(name)]


def num(x: Any) -> Any:
    """A whole float as an int (5.0 -> 5), so values read and store as people wrote them."""
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def as_number(value: Any) -> float | None:
    """A finite number from a number or numeric text; None for anything else (bools too)."""
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


def as_bool(value: Any) -> bool | None:
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


@register_kind
class Numeric(Kind):
    """A number from min to max in steps (Likert 1-5 by default: ordinal agreement)."""

    name = RatingKind.NUMERIC
    default_level = "ordinal"
    levels = ("ordinal", "interval", "ratio")

    def parse(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        numbers: dict[str, float] = {}
        for fname, v in (
            ("min", item.get("min")),
            ("max", item.get("max")),
            ("step", item.get("step", 1)),
        ):
            number = None if isinstance(v, str) else as_number(v)
            if number is None:
                raise SchemeError(f"{where}: field {fname!r} must be a number; got {v!r}")
            numbers[fname] = number
        lo, hi, step = numbers["min"], numbers["max"], numbers["step"]
        if not hi > lo:
            raise SchemeError(
                f"{where}: field 'max' ({num(hi)}) must be greater than 'min' ({num(lo)})"
            )
        if float(step) <= 0:
            raise SchemeError(f"{where}: field 'step' must be positive")
        level = item.get("level", self.default_level)
        if level not in self.levels:
            raise SchemeError(
                f"{where}: field 'level' must be one of {', '.join(self.levels)}; got {level!r}"
            )
        return {"min": float(lo), "max": float(hi), "step": float(step), "level": level}

    def coerce(self, value: Any) -> Any:
        return as_number(value)

    def validate(self, scheme: SchemeFields, value: Any) -> Any:
        where = f"scheme {scheme.name!r}"
        lo, hi = scheme.min, scheme.max
        assert lo is not None and hi is not None
        number = self.coerce(value)
        if number is None:
            raise RatingError(f"{where} takes a number from {num(lo)} to {num(hi)}, got {value!r}")
        if not lo <= number <= hi:
            raise RatingError(f"{where}: {num(number)} is out of range {num(lo)} to {num(hi)}")
        if scheme.step:
            steps = (number - lo) / scheme.step
            if abs(steps - round(steps)) > 1e-9:
                raise RatingError(
                    f"{where}: {num(number)} is not a multiple of step {num(scheme.step)} from {num(lo)}"
                )
        return num(number)

    def describe(self, scheme: SchemeFields) -> str:
        return f"numeric {num(scheme.min)} to {num(scheme.max)}"

    def options(self, scheme: SchemeFields) -> list[Any]:
        if scheme.min is None or scheme.max is None:
            return []
        step = scheme.step or 1
        count = int(round((scheme.max - scheme.min) / step)) + 1
        # A long range is typed, not picked from a row of buttons.
        return [num(scheme.min + i * step) for i in range(count)] if count <= 21 else []

    def score(self, scheme: SchemeFields, value: Any) -> float | None:
        assert scheme.min is not None and scheme.max is not None
        return (float(value) - scheme.min) / (scheme.max - scheme.min)

    def to_dict(self, scheme: SchemeFields) -> dict[str, Any]:
        out: dict[str, Any] = {"min": num(scheme.min), "max": num(scheme.max)}
        if scheme.step and scheme.step != 1:
            out["step"] = num(scheme.step)
        return out


@register_kind
class Boolean(Kind):
    """Thumbs up or down."""

    name = RatingKind.BOOLEAN

    def coerce(self, value: Any) -> Any:
        return as_bool(value)

    def validate(self, scheme: SchemeFields, value: Any) -> Any:
        flag = self.coerce(value)
        if flag is None:
            raise RatingError(
                f"scheme {scheme.name!r} takes thumbs up or down (true/false), got {value!r}"
            )
        return flag

    def describe(self, scheme: SchemeFields) -> str:
        return "thumbs up or down"

    def options(self, scheme: SchemeFields) -> list[Any]:
        return [True, False]

    def score(self, scheme: SchemeFields, value: Any) -> float | None:
        return 1.0 if value else 0.0


@register_kind
class Categorical(Kind):
    """One label of a list, or several with `multiple: true`."""

    name = RatingKind.CATEGORICAL

    def parse(self, item: dict[str, Any], where: str) -> dict[str, Any]:
        if "level" in item:
            raise SchemeError(f"{where}: field 'level' does not apply to a categorical scheme")
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
            number = as_number(v)
            if str(label) not in clean or number is None or not 0 <= number <= 1:
                raise SchemeError(
                    f"{where}: field 'label_scores': {label!r} must be a label with a score from 0 to 1"
                )
            scores[str(label)] = number
        return {"labels": tuple(clean), "multiple": multiple, "label_scores": scores}

    def coerce(self, value: Any) -> Any:
        return list(value) if isinstance(value, list | tuple | set | frozenset) else [value]

    def validate(self, scheme: SchemeFields, value: Any) -> Any:
        where = f"scheme {scheme.name!r}"
        chosen = self.coerce(value)
        if not chosen:
            raise RatingError(f"{where}: pick at least one label")
        if not scheme.multiple and len(chosen) != 1:
            raise RatingError(f"{where} takes one label, got {len(chosen)}")
        unknown = [c for c in chosen if c not in scheme.labels]
        if unknown:
            raise RatingError(
                f"{where} has no label {unknown[0]!r} (labels: {', '.join(scheme.labels)})"
            )
        ordered = [label for label in scheme.labels if label in chosen]
        return ordered if scheme.multiple else ordered[0]

    def describe(self, scheme: SchemeFields) -> str:
        many = "one or more of" if scheme.multiple else "one of"
        return f"{many}: {', '.join(scheme.labels)}"

    def options(self, scheme: SchemeFields) -> list[Any]:
        return list(scheme.labels)

    def score(self, scheme: SchemeFields, value: Any) -> float | None:
        if not scheme.label_scores:
            return None
        chosen = value if isinstance(value, list) else [value]
        scores = [scheme.label_scores[c] for c in chosen if c in scheme.label_scores]
        return min(scores) if scores else None

    def to_dict(self, scheme: SchemeFields) -> dict[str, Any]:
        out: dict[str, Any] = {"labels": list(scheme.labels)}
        if scheme.multiple:
            out["multiple"] = True
        if scheme.label_scores:
            out["label_scores"] = dict(scheme.label_scores)
        return out


@register_kind
class Text(Kind):
    """A free comment: no order, no agreement."""

    name = RatingKind.TEXT
    default_level = "none"
    levels = ("none",)

    def validate(self, scheme: SchemeFields, value: Any) -> Any:
        where = f"scheme {scheme.name!r}"
        if not isinstance(value, str) or not value.strip():
            raise RatingError(f"{where} takes a non-empty text")
        if len(value) > TEXT_MAX_LENGTH:
            raise RatingError(
                f"{where}: text is {len(value)} characters; the limit is {TEXT_MAX_LENGTH}"
            )
        return value.strip()

    def describe(self, scheme: SchemeFields) -> str:
        return "free text"
