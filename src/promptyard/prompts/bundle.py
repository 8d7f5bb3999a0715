"""Reading a prompt bundle: prompt versions frozen into one JSON file, loaded with no git.

`promptyard bundle --label production --out prompts.bundle.json` writes one (see
`models.bundling`); an application then loads prompts from it with
`get_prompt(name, label="production", bundle="prompts.bundle.json")` or with
`$PROMPTYARD_BUNDLE` set. Nothing here imports git, the store or the database.

The file (format version 1):

    {"format": "promptyard-bundle", "format_version": 1, "created_at": ISO time,
     "workspace_commit": sha or null, "label": the label asked for or null,
     "prompts": [{"name", "path", "version": N or null, "sha", "labels": [...],
                  "message", "author", "date", "text": the file, "parsed": {...}}],
     "models": {name: the models.yaml entry, never a key}}
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.prompts.pinned import PinnedVersion
from promptyard.prompts.serialized import template_from_data
from promptyard.prompts.template import PromptTemplate

BUNDLE_ENV = "PROMPTYARD_BUNDLE"
BUNDLE_FORMAT = "promptyard-bundle"
BUNDLE_FORMAT_VERSION = 1


class BundleError(PromptyardError):
    """A bundle that cannot be used: unreadable, corrupt, from a newer format, or lacking
    the prompt, label or version asked for. The message names the file."""


@dataclass(frozen=True)
class BundledPrompt:
    """One prompt version in a bundle: its file text and the template parsed from it."""

    name: str
    version: PinnedVersion
    text: str
    template: PromptTemplate = field(repr=False)


@dataclass(frozen=True)
class Bundle:
    """A bundle file, read and checked."""

    path: Path
    format_version: int
    created_at: str
    workspace_commit: str | None
    label: str | None
    prompts: tuple[BundledPrompt, ...]
    models: dict[str, dict[str, Any]]

    def names(self) -> list[str]:
        """The prompts the bundle holds, each once, in file order."""
        return list(dict.fromkeys(p.name for p in self.prompts))

    def find(
        self, name: str, *, label: str | None = None, version: int | str | None = None
    ) -> BundledPrompt:
        """The entry of prompt `name` labelled `label`, or at `version` (N, vN or a sha
        prefix), or its newest; BundleError saying what the bundle has instead."""
        entries = [p for p in self.prompts if p.name == name]
        if not entries:
            held = ", ".join(self.names()) or "none"
            raise BundleError(f"{self.path}: has no prompt {name!r} (it holds: {held})")
        if label is not None:
            found = [p for p in entries if label in p.version.labels]
            if not found:
                labels = sorted({la for p in entries for la in p.version.labels})
                raise BundleError(
                    f"{self.path}: has no version of prompt {name!r} labelled {label!r}"
                    f" (labels in the bundle: {', '.join(labels) or 'none'})"
                )
            return found[-1]
        if version is not None:
            return self._at_version(name, entries, version)
        numbered = [p for p in entries if p.version.number is not None]
        return max(numbered, key=lambda p: p.version.number or 0) if numbered else entries[-1]

    def _at_version(self, name: str, entries: list[BundledPrompt], ref: int | str) -> BundledPrompt:
        text = str(ref).strip()
        # as the store reads refs: vN, a bare number of up to 3 digits, else a sha prefix
        match = re.fullmatch(r"[vV](\d+)|(\d{1,3})", text)
        if isinstance(ref, int) or match:
            number = ref if isinstance(ref, int) else int(match.group(1) or match.group(2))  # type: ignore[union-attr]
            found = [p for p in entries if p.version.number == number]
        elif re.fullmatch(r"[0-9a-fA-F]{4,40}", text):
            found = [p for p in entries if p.version.sha.startswith(text.lower())]
        else:
            found = []
        if len(found) != 1:
            held = ", ".join(f"{p.version.tag} ({p.version.short_sha})" for p in entries)
            raise BundleError(
                f"{self.path}: has no version {text!r} of prompt {name!r} (it holds {held})"
            )
        return found[0]

    def get_prompt(
        self, name: str, *, label: str | None = None, version: int | str | None = None
    ) -> PromptTemplate:
        """A fresh template of the entry `find` picks (`.label` set when loaded by label)."""
        template = copy.copy(self.find(name, label=label, version=version).template)
        template.label = label
        return template


_loaded: dict[str, tuple[tuple[int, int], Bundle]] = {}
_loaded_lock = threading.Lock()


def bundle_from_env() -> Path | None:
    """The bundle `$PROMPTYARD_BUNDLE` names, if it is set."""
    raw = os.environ.get(BUNDLE_ENV, "").strip()
    return Path(raw).expanduser() if raw else None


def load_bundle(path: str | Path) -> Bundle:
    """The bundle at `path`, read once per process (again when the file changes).

    Raises BundleError naming the file when it cannot be read, is not JSON, is not a
    bundle, or was written by a newer Promptyard than this one.
    """
    file = Path(path).expanduser()
    key = os.path.abspath(file)  # no resolve(): a stat per call is all a hit costs
    try:
        st = os.stat(key)
    except OSError as exc:
        raise BundleError(f"{file}: cannot read the bundle: {exc.strerror or exc}") from None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _loaded.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    bundle = _read(file)
    with _loaded_lock:
        _loaded[key] = (stamp, bundle)
    return bundle


def _read(file: Path) -> Bundle:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise BundleError(f"{file}: cannot read the bundle: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BundleError(f"{file}: is not a bundle: not UTF-8 (offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BundleError(
            f"{file}: is corrupt: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f'{file}: is not a Promptyard bundle (no "format": "{BUNDLE_FORMAT}");'
            " write one with `promptyard bundle --out FILE`"
        )
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise BundleError(f"{file}: is corrupt: format_version must be a positive integer")
    if version > BUNDLE_FORMAT_VERSION:
        raise BundleError(
            f"{file}: is bundle format version {version}, newer than this Promptyard reads"
            f" ({BUNDLE_FORMAT_VERSION}); upgrade promptyard or write the bundle with this one"
        )
    prompts = data.get("prompts")
    models = data.get("models", {})
    if not isinstance(prompts, list) or not isinstance(models, dict):
        raise BundleError(f"{file}: is corrupt: 'prompts' must be a list and 'models' an object")
    for name, entry in models.items():
        if not isinstance(entry, dict):
            raise BundleError(f"{file}: is corrupt: model {name!r} is not an object")
    return Bundle(
        path=file,
        format_version=version,
        created_at=str(data.get("created_at") or ""),
        workspace_commit=data.get("workspace_commit"),
        label=data.get("label"),
        prompts=tuple(_entry(file, i, e) for i, e in enumerate(prompts, start=1)),
        models={str(k): v for k, v in models.items()},
    )


def _entry(file: Path, index: int, entry: Any) -> BundledPrompt:
    where = f"{file}: prompt entry {index}"
    if not isinstance(entry, dict):
        raise BundleError(f"{where} is corrupt: not an object")
    try:
        name, sha, text = str(entry["name"]), str(entry["sha"]), entry["text"]
        number = entry.get("version")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
            raise TypeError(f"'version' must be an integer or null, got {number!r}")
        if not isinstance(text, str):
            raise TypeError("'text' must be a string")
        labels = entry.get("labels") or []
        if not isinstance(labels, list):
            raise TypeError("'labels' must be a list")
        date = entry.get("date")
        pinned = PinnedVersion(
            path=str(entry.get("path") or f"prompts/{name}.prompty"),
            number=number,
            sha=sha,
            message=str(entry.get("message") or ""),
            author=str(entry.get("author") or ""),
            email=str(entry.get("email") or ""),
            date=datetime.fromisoformat(date) if date else None,
            labels=tuple(sorted(str(la) for la in labels)),
        )
        template = template_from_data(entry["parsed"], text)
    except KeyError as exc:
        raise BundleError(f"{where} is corrupt: field {exc.args[0]!r} is missing") from None
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{where} is corrupt: {exc}") from None
    template.version = pinned
    return BundledPrompt(name, pinned, text, template)
