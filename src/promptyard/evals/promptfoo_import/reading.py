"""Reading a promptfoo project: the config file and the files it points at with `file://`.

Only data is read (YAML, JSON, CSV, text); nothing from the project is executed. Paths are
resolved against the config file's folder and must stay inside it.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promptyard.errors import PromptyardError


class PromptfooImportError(PromptyardError):
    """A promptfoo config that cannot be imported at all; nothing was saved."""


@dataclass
class RawPrompt:
    """One prompt as promptfoo holds it: text (a template) or chat messages."""

    label: str
    text: str | None = None
    messages: list[dict[str, Any]] | None = None
    source: str = ""  # "inline" or the file it came from


@dataclass
class RawTest:
    """One test case: its vars, its assertions and its options, and where it came from."""

    vars: dict[str, Any]
    asserts: list[Any]
    where: str
    description: str = ""
    threshold: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    extra_keys: list[str] = field(default_factory=list)


def load_config(path: Path) -> dict[str, Any]:
    """The config file as a mapping; raises PromptfooImportError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptfooImportError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise PromptfooImportError(f"{path}{at}: not valid YAML or JSON") from None
    if not isinstance(data, dict):
        raise PromptfooImportError(f"{path}: a promptfoo config is a mapping (prompts:, tests:)")
    return data


def inside(base: Path, ref: str) -> Path:
    """`file://REF` (or a bare REF) resolved under `base`; raises when it leads outside."""
    rel = ref[len("file://") :] if ref.startswith("file://") else ref
    path = (base / rel).resolve()
    if not path.is_relative_to(base.resolve()):
        raise PromptfooImportError(f"{ref}: outside the project folder {base}")
    return path


def read_text(base: Path, ref: str) -> str:
    """The text of a `file://` reference; raises PromptfooImportError when it is missing."""
    path = inside(base, ref)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptfooImportError(f"{ref}: cannot be read: {exc.strerror}") from None


def read_prompts(base: Path, value: Any, notes: list[str]) -> list[RawPrompt]:
    """promptfoo's `prompts:`: strings, `file://` files (text split at `---` lines, or
    JSON chat messages), `{id|raw, label}` mappings. What cannot be read goes to `notes`."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    if isinstance(value, dict) and not {"id", "raw"} & set(value):
        items = [{"id": k, "label": v} for k, v in value.items()]  # the {file: label} form
    found: list[RawPrompt] = []
    for item in items:
        label = ""
        if isinstance(item, dict):
            label = str(item.get("label") or "")
            item = item.get("raw", item.get("id"))
        if not isinstance(item, str):
            notes.append(f"prompt {item!r}: not a string, file:// or mapping; not imported")
            continue
        if item.startswith("file://"):
            found.extend(_prompt_file(base, item, label, notes))
        else:
            found.append(RawPrompt(label or "", text=item, source="inline"))
    return found


_CODE = (".js", ".ts", ".mjs", ".cjs", ".py")


def _prompt_file(base: Path, ref: str, label: str, notes: list[str]) -> list[RawPrompt]:
    path_part = ref[len("file://") :]
    if ":" in path_part or path_part.endswith(_CODE):
        notes.append(f"prompt {ref}: a prompt function (code) cannot be carried over")
        return []
    if "*" in ref:
        notes.append(f"prompt {ref}: glob patterns are not supported; list the files")
        return []
    try:
        text = read_text(base, ref)
    except PromptfooImportError as exc:
        notes.append(f"prompt {exc}; not imported")
        return []
    stem = Path(ref[7:]).stem
    if ref.endswith((".json", ".jsonl")):
        try:
            data = json.loads(text)
        except ValueError:
            notes.append(
                f"prompt {ref}: a JSON prompt with template tags ({{% %}}) that is not JSON "
                "itself cannot be carried over; write its messages out"
            )
            return []
        if isinstance(data, list) and all(
            isinstance(m, dict) and isinstance(m.get("content"), str) and "role" in m for m in data
        ):
            return [RawPrompt(label or stem, messages=data, source=ref)]
        notes.append(f"prompt {ref}: JSON that is not a list of {{role, content}} messages")
        return []
    parts = [p.strip("\n") for p in _split_prompts(text)]
    parts = [p for p in parts if p.strip()]
    if len(parts) == 1:
        return [RawPrompt(label or stem, text=parts[0], source=ref)]
    return [RawPrompt(f"{label or stem}_{i + 1}", text=p, source=ref) for i, p in enumerate(parts)]


def _split_prompts(text: str) -> list[str]:
    # promptfoo separates prompts in one text file with a line holding only `---`
    out: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip() == "---":
            out.append("\n".join(current))
            current = []
        else:
            current.append(line)
    out.append("\n".join(current))
    return out


def read_tests(base: Path, value: Any, notes: list[str]) -> list[RawTest]:
    """promptfoo's `tests:`: a list of test mappings and/or `file://` CSV, YAML or JSON
    files of tests."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    tests: list[RawTest] = []
    for n, item in enumerate(items, 1):
        if isinstance(item, str) and item.startswith("file://"):
            tests.extend(_test_file(base, item, notes))
        elif isinstance(item, dict):
            tests.append(_test(item, f"tests[{n}]"))
        else:
            notes.append(f"tests[{n}]: {str(item)[:60]!r} is neither a test nor file://; skipped")
    return tests


_TEST_KEYS = {"vars", "assert", "description", "threshold", "options", "metadata"}


def _test(item: dict[str, Any], where: str) -> RawTest:
    raw_vars = item.get("vars") or {}
    threshold = item.get("threshold")
    return RawTest(
        vars=dict(raw_vars) if isinstance(raw_vars, dict) else {"__invalid__": raw_vars},
        asserts=list(item.get("assert") or []),
        where=where + (f" ({item['description']})" if item.get("description") else ""),
        description=str(item.get("description") or ""),
        threshold=float(threshold) if isinstance(threshold, int | float) else None,
        options=dict(item.get("options") or {}),
        extra_keys=sorted(set(item) - _TEST_KEYS),
    )


def _test_file(base: Path, ref: str, notes: list[str]) -> list[RawTest]:
    try:
        text = read_text(base, ref)
    except PromptfooImportError as exc:
        notes.append(f"tests {exc}; skipped")
        return []
    name = ref[7:]
    if name.endswith(".csv"):
        return _csv_tests(text, name)
    try:
        data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        notes.append(f"tests {ref}: not valid YAML or JSON; skipped")
        return []
    items = data if isinstance(data, list) else [data]
    return [_test(t, f"{name} #{i}") for i, t in enumerate(items, 1) if isinstance(t, dict)]


def _csv_tests(text: str, name: str) -> list[RawTest]:
    """CSV tests: each column a var, except promptfoo's `__expected*` (assertions, as
    `type:value` strings), `__description` and `__threshold`."""
    tests = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    for line, row in enumerate(reader, 2):
        expected = [v for k, v in row.items() if k and k.startswith("__expected") and v]
        variables = {k: v for k, v in row.items() if k and not k.startswith("__")}
        threshold = row.get("__threshold")
        description = row.get("__description") or ""
        tests.append(
            RawTest(
                vars=variables,
                asserts=list(expected),
                where=f"{name} line {line}" + (f" ({description})" if description else ""),
                description=description,
                threshold=float(threshold) if threshold else None,
            )
        )
    return tests
