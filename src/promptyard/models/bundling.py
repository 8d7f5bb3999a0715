"""Writing a prompt bundle: the labelled (or latest) versions, frozen into one JSON file.

It lives here, above prompts and versioning, because a bundle carries both the prompt
versions (from the store) and the `models.yaml` entries those prompts use (from the
catalog). The format is described, and read, in `prompts.bundle`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.models.catalog import load_endpoints
from promptyard.models.endpoints import ModelEndpoint
from promptyard.prompts import (
    BUNDLE_FORMAT,
    BUNDLE_FORMAT_VERSION,
    EXTENSION,
    PromptTemplate,
    get_prompt,
    prompt_path,
    template_to_data,
)
from promptyard.workspace import Workspace, current_workspace


@dataclass(frozen=True)
class BundleReport:
    """What `write_bundle` wrote: each prompt's name, version tag and sha, the models, and
    the prompts left out with the reason."""

    path: Path
    prompts: list[tuple[str, str, str]]
    models: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "prompts": [{"name": n, "version": v, "sha": s} for n, v, s in self.prompts],
            "models": self.models,
            "skipped": [{"name": n, "reason": r} for n, r in self.skipped],
        }


def _model_entry(endpoint: ModelEndpoint) -> dict[str, Any]:
    # the models.yaml shape, so the reader checks it as the catalog does; a key is never in it
    entry = {
        "model": endpoint.litellm_model,
        "api_base": endpoint.api_base,
        "api_key_env": endpoint.api_key_env,
        "provider": endpoint.provider_kind,
        "description": endpoint.description,
        "max_concurrency": endpoint.max_concurrency,
        "rpm": endpoint.rpm,
        "input_cost_per_token": endpoint.input_cost_per_token,
        "output_cost_per_token": endpoint.output_cost_per_token,
    }
    return {k: v for k, v in entry.items() if v is not None}


def _entry(template: PromptTemplate) -> dict[str, Any]:
    version = template.version
    return {
        "name": template.name,
        "path": version.path,
        "version": version.number,  # None in a shallow clone: the number is unknown there
        "sha": version.sha,
        "labels": list(version.labels),
        "message": version.message,
        "author": version.author,
        "email": version.email,
        "date": version.date.isoformat() if version.date else None,
        "text": template.source_text,
        "parsed": template_to_data(template),
    }


def write_bundle(
    out: str | Path,
    *,
    label: str | None = None,
    prompts: list[str] | None = None,
    workspace: Workspace | None = None,
) -> BundleReport:
    """Write the bundle of `prompts` (default: every prompt file) to `out`, atomically.

    With `label`, each prompt's version under that label (a prompt without it is skipped,
    or an error when named in `prompts`); without, each prompt's latest saved version.
    Raises PromptyardError when nothing would be bundled or a named prompt cannot be; the
    file at `out` is then left as it was.
    """
    ws = workspace or current_workspace()
    names = list(dict.fromkeys(prompts)) if prompts else _all_prompts(ws)
    ref = label if label is not None else "latest"
    entries: list[dict[str, Any]] = []
    used: list[str] = []
    skipped: list[tuple[str, str]] = []
    for name in names:
        try:
            template = get_prompt(name, ref, workspace=ws, cache_ttl=0)
        except NotFoundError as exc:
            if prompts:
                raise PromptyardError(f"cannot bundle prompt {name!r}: {exc}") from None
            skipped.append((name, str(exc)))
            continue
        entries.append(_entry(template))
        if template.model:
            used.append(template.model)
    if not entries:
        what = f"labelled {label!r}" if label else "saved"
        raise PromptyardError(f"no prompt version {what} in {ws.prompts_dir}: nothing to bundle")
    configured = load_endpoints(ws)
    models = {m: _model_entry(configured[m]) for m in dict.fromkeys(used) if m in configured}
    data = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workspace_commit": _head(ws),
        "label": label,
        "prompts": entries,
        "models": models,
    }
    path = Path(out).expanduser()
    _write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return BundleReport(
        path,
        [
            (e["name"], f"v{e['version']}" if e["version"] is not None else "v?", e["sha"])
            for e in entries
        ],
        list(models),
        skipped,
    )


def _all_prompts(ws: Workspace) -> list[str]:
    found = sorted(p.stem for p in ws.prompts_dir.glob(f"*{EXTENSION}"))
    for name in found:
        prompt_path(name)  # a file with an unsafe name is refused here, not half-bundled
    return found


def _head(ws: Workspace) -> str | None:
    from promptyard.versioning import Store

    return Store(ws).head()


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    if path.is_dir():
        raise PromptyardError(f"{path} is a folder; give --out a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise PromptyardError(f"{path}: the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
