"""`${env:NAME}` and `${file:path}` references in a prompt's front matter.

A whole string value `${env:NAME}` (or `${env:NAME:default}`) is kept as written and
resolved only when a call needs it (`resolve_env`), so the secret never lands in a parsed
field, a saved file, the page or the database. `${file:path}` is read when the file is
parsed, relative to the prompt's folder, and only from inside the workspace: a path that
leaves it, directly or through a symlink, is refused.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from promptyard.prompts.errors import TemplateError

_REFERENCE = re.compile(r"^\$\{(?P<protocol>[A-Za-z]+):(?P<value>.*)\}$", re.DOTALL)

MAX_FILE_BYTES = 1_000_000  # a referenced file larger than this is refused


def reference_of(value: Any) -> tuple[str, str] | None:
    """(protocol, value) when `value` is a whole `${protocol:value}` string, else None."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value.strip())
    if not match:
        return None
    return match.group("protocol").lower(), match.group("value")


def env_references(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The paths of every `${env:...}` value in `data`, in document order."""
    found: list[tuple[str | int, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += env_references(value, (*path, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += env_references(value, (*path, index))
    else:
        ref = reference_of(data)
        if ref and ref[0] == "env":
            found.append(path)
    return found


def resolve_env(data: Any, *, where: str = "prompt") -> Any:
    """A copy of `data` with every `${env:NAME[:default]}` replaced by its value now.

    Raises TemplateError naming the variable (never a value) when it is unset and has no
    default. Call it at the moment of a call and do not keep the result.
    """
    if isinstance(data, dict):
        return {k: resolve_env(v, where=where) for k, v in data.items()}
    if isinstance(data, list):
        return [resolve_env(v, where=where) for v in data]
    ref = reference_of(data)
    if not ref or ref[0] != "env":
        return data
    name, sep, default = ref[1].partition(":")
    value = os.environ.get(name)
    if value is not None:
        return value
    if sep:
        return default
    raise TemplateError(f"environment variable {name} is not set", source=where)


def resolve_files(
    data: Any,
    base_dir: Path | None,
    root: Path | None,
    on_error: Any,
    path: tuple[str | int, ...] = (),
) -> Any:
    """A copy of `data` with every `${file:path}` replaced by the file's content.

    `.json` and `.yaml`/`.yml` files are parsed, others read as text. `on_error(message,
    path)` is called (and must raise) for a file outside `root`, missing or unreadable.
    """
    if isinstance(data, dict):
        return {
            k: resolve_files(v, base_dir, root, on_error, (*path, str(k))) for k, v in data.items()
        }
    if isinstance(data, list):
        return [resolve_files(v, base_dir, root, on_error, (*path, i)) for i, v in enumerate(data)]
    ref = reference_of(data)
    if not ref or ref[0] != "file":
        return data
    if base_dir is None or root is None:
        on_error(f"${{file:{ref[1]}}} needs the prompt to be in a workspace", path)
    assert base_dir is not None and root is not None
    target = _contained(ref[1], base_dir, root, on_error, path)
    try:
        if target.stat().st_size > MAX_FILE_BYTES:
            on_error(f"${{file:{ref[1]}}} is larger than {MAX_FILE_BYTES} bytes", path)
        text = target.read_text(encoding="utf-8")
        if target.suffix == ".json":
            return json.loads(text)
        if target.suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return text
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        on_error(f"${{file:{ref[1]}}} cannot be read: {exc}", path)
    raise AssertionError("on_error must raise")  # pragma: no cover


def _contained(reference: str, base_dir: Path, root: Path, on_error: Any, path: Any) -> Path:
    candidate = Path(reference)
    if candidate.is_absolute():
        on_error(
            f"${{file:{reference}}} is an absolute path; use a path inside the workspace", path
        )
    real_root = root.resolve()
    # resolve() follows every symlink, so a link that points out of the workspace fails here.
    target = (base_dir / candidate).resolve()
    if not target.is_relative_to(real_root):
        on_error(f"${{file:{reference}}} leads outside the workspace", path)
    if not target.is_file():
        on_error(f"${{file:{reference}}} does not exist", path)
    return target
