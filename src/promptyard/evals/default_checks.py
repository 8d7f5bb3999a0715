"""The checks every finished run gets, with no judge and no suite file: so every run has a
pass rate.

- `non-empty`: the call answered with text (or tool calls); a failed call does not pass;
- `is-json`: when the prompt asks for JSON (a `response_format` of json_object or
  json_schema, or `outputs:` in its front matter);
- the prompt's own assertions, when its front matter declares them under
  `metadata: {assert: [...]}`, in promptfoo's names and meanings (code checks only: a
  `llm-rubric` or a custom `python` one is left for a suite, as it costs money or runs
  workspace code).

They are stored as suite `default` (Score rows like any suite's), one set of checks per
variant, since variants of one run can be different prompts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import RUBRIC_TYPE, Assertion, check_assertion
from promptyard.evals.suites import Suite, name_assertions
from promptyard.prompts import parse_prompt, prompt_text
from promptyard.storage import db
from promptyard.storage.tables import Variant
from promptyard.workspace import Workspace

logger = logging.getLogger(__name__)

DEFAULT_SUITE = "default"
NON_EMPTY = Assertion(type="regex", value=r"\S", name="non-empty")
IS_JSON = Assertion(type="is-json", name="valid JSON")
JSON_FORMATS = ("json_object", "json_schema")
_SKIPPED_TYPES = (RUBRIC_TYPE, "python")


@dataclass(frozen=True)
class DefaultChecks:
    """The default checks of one variant, as a suite named `default`."""

    variant_id: int
    suite: Suite


def asks_for_json(parameters: dict[str, Any], front: dict[str, Any] | None = None) -> bool:
    """True when a call's parameters or its prompt's front matter ask for a JSON answer."""
    fmt = parameters.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else fmt
    if kind in JSON_FORMATS:
        return True
    return bool(front and (front.get("outputs") or front.get("response_schema")))


def _front(ws: Workspace, variant: Variant) -> dict[str, Any] | None:
    """The front matter of the variant's prompt at the version it ran (None: unreadable)."""
    if not variant.prompt_sha:
        return None
    try:
        text = prompt_text(variant.prompt_name, variant.prompt_sha, workspace=ws)
        return parse_prompt(text, variant.prompt_name).front
    except (PromptyardError, OSError, ValueError) as exc:
        logger.info("default checks: prompt %s unreadable: %s", variant.prompt_name, exc)
        return None


def prompt_assertions(front: dict[str, Any] | None, where: str) -> list[Assertion]:
    """The code-only assertions a prompt's front matter declares (`metadata.assert`)."""
    metadata = (front or {}).get("metadata")
    declared = metadata.get("assert") if isinstance(metadata, dict) else None
    if not isinstance(declared, list):
        return []
    out = []
    for i, item in enumerate(declared):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            logger.info("%s: metadata.assert[%d] has no type; left out", where, i)
            continue
        a = Assertion(
            type=item["type"],
            value=item.get("value"),
            threshold=item.get("threshold"),
            weight=float(item.get("weight", 1.0)),
            name=str(item.get("metric") or item.get("name") or ""),
            where=f"{where} metadata.assert[{i}]",
        )
        if a.base_type in _SKIPPED_TYPES:
            continue
        try:
            check_assertion(a)
        except PromptyardError as exc:
            logger.info("%s: left out: %s", a.where, exc)
            continue
        out.append(a)
    return out


def checks_for_variant(ws: Workspace, variant: Variant) -> list[Assertion]:
    """The default checks of one variant: non-empty, valid JSON if asked, the prompt's own."""
    try:
        parameters = json.loads(variant.parameters_json or "{}")
    except ValueError:
        parameters = {}
    front = _front(ws, variant)
    checks = [NON_EMPTY]
    if asks_for_json(parameters if isinstance(parameters, dict) else {}, front):
        checks.append(IS_JSON)
    checks += prompt_assertions(front, f"prompts/{variant.prompt_name}.prompty")
    return name_assertions(checks, f"prompts/{variant.prompt_name}.prompty")


def default_checks(ws: Workspace, run_id: int) -> list[DefaultChecks]:
    """Per variant of the run, its default checks as a suite named `default`."""
    with db.session(ws) as s:
        variants = list(s.exec(select(Variant).where(Variant.run_id == run_id)).all())
    return [
        DefaultChecks(
            int(v.id or 0),
            Suite(
                name=DEFAULT_SUITE,
                path="(default checks)",
                description="checks every run gets: non-empty, valid JSON, the prompt's own",
                assertions=checks_for_variant(ws, v),
            ),
        )
        for v in variants
    ]
