"""Rating schemes: the git-versioned ratings.yaml, parsed, dumped, loaded and saved.

A rating records the commit sha of ratings.yaml it was given under (`scheme_version`).
What each kind of scheme accepts is in `kinds.py`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from promptyard.errors import PromptyardError
from promptyard.ratings.errors import RatingError, SchemeError
from promptyard.ratings.kinds import KINDS_BY_NAME, Kind, RatingKind, kind_of
from promptyard.ratings.version_memo import remembered
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)

RATINGS_FILE = "ratings.yaml"
KINDS = tuple(KINDS_BY_NAME)  # the built-in kinds; register_kind adds others
_SCHEME_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,49}$")
_FIELDS = (
    "name",
    "kind",
    "instructions",
    "min",
    "max",
    "step",
    "level",
    "labels",
    "multiple",
    "label_scores",
)

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


@dataclass(frozen=True)
class RatingScheme:
    """One way of judging an output, with the instructions shown to raters.

    `level` is the measurement level agreement is computed at: ordinal for numeric
    schemes unless ratings.yaml says interval or ratio, nominal for boolean and
    categorical ones, none for text.
    """

    name: str
    kind: str
    instructions: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    labels: tuple[str, ...] = ()
    multiple: bool = False
    label_scores: dict[str, float] = field(default_factory=dict)
    level: str = ""

    def __post_init__(self) -> None:
        # frozen: set through object.__setattr__, once, at construction
        kind_of(self.kind)  # KeyError for a kind nobody registered
        if self.kind in RatingKind.__members__.values():
            object.__setattr__(self, "kind", RatingKind(self.kind))
        if not self.level:
            object.__setattr__(self, "level", self.spec.default_level)

    @property
    def spec(self) -> Kind:
        """The kind's class instance that validates, describes and scores values."""
        return kind_of(self.kind)

    @property
    def options(self) -> list[Any]:
        """The values a rater picks from: numbers of a numeric range, labels, or booleans."""
        return self.spec.options(self)

    def describe(self) -> str:
        return self.spec.describe(self)

    def validate_value(self, value: Any) -> Any:
        """The value normalized for storage; RatingError says why it is refused."""
        return self.spec.validate(self, value)

    def score(self, value: Any) -> float | None:
        """A validated value on 0..1 for charts; None where the scheme has no order."""
        return self.spec.score(self, value)

    def to_dict(self) -> dict[str, Any]:
        """The scheme as written in ratings.yaml."""
        out: dict[str, Any] = {"name": self.name, "kind": str(self.kind)}
        out.update(self.spec.to_dict(self))
        if self.level != self.spec.default_level:
            out["level"] = self.level
        if self.instructions:
            out["instructions"] = self.instructions
        return out


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
        # No line numbers then: errors name the scheme's position instead.
        logger.debug("ratings.yaml: no line numbers for the schemes", exc_info=True)
    return []


def _parse_one(item: Any, where: str) -> RatingScheme:
    if not isinstance(item, dict):
        raise SchemeError(f"{where}: expected a mapping with name and kind")
    extra = sorted(set(item) - set(_FIELDS))
    if extra:
        raise SchemeError(
            f"{where}: unknown field {extra[0]!r} (fields: {', '.join(sorted(_FIELDS))})"
        )
    name = item.get("name")
    if not isinstance(name, str) or not _SCHEME_NAME.fullmatch(name):
        raise SchemeError(
            f"{where}: field 'name' must be 1-50 letters, digits, '_' or '-', starting with a letter; got {name!r}"
        )
    where = f"{where} ({name})"
    kind = item.get("kind")
    if not isinstance(kind, str) or kind not in KINDS_BY_NAME:
        known = ", ".join(KINDS_BY_NAME)
        raise SchemeError(f"{where}: field 'kind' must be one of {known}; got {kind!r}")
    instructions = item.get("instructions") or ""
    if not isinstance(instructions, str):
        raise SchemeError(f"{where}: field 'instructions' must be text")
    fields = kind_of(kind).parse(item, where)
    return RatingScheme(name, kind, instructions.strip(), **fields)


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

    def lookup() -> str | None:
        try:
            versions = Store(ws).history(RATINGS_FILE)
        except PromptyardError:
            return None
        return versions[-1].sha if versions and not versions[-1].deleted else None

    return remembered(ws.ratings_file, lookup)
