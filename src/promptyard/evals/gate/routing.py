"""Call settings a working tree must not change behind the gate's back: parameters that
choose where a call goes or which credentials it carries (`api_base`, `api_key`, ...), and
`${env:...}` references a prompt adds, which would let a pull request pick what the CI
environment sends."""

from __future__ import annotations

import re
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.suites import Suite
from promptyard.workspace import Workspace

# Call parameters that choose where a call goes or which credentials it carries.
ROUTING_PARAMETERS = frozenset(
    {
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "api_type",
        "azure_endpoint",
        "azure_ad_token",
        "custom_llm_provider",
        "organization",
        "deployment_id",
        "model_list",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "vertex_credentials",
        "vertex_project",
        "vertex_location",
    }
)
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)")


def read_at(ws: Workspace, commit: Any, path: str) -> bytes | None:
    """The bytes of workspace file `path` at `commit`; None when it is not there."""
    if commit is None:
        return None
    from promptyard.versioning.store import Store

    try:
        blob = commit.tree / Store(ws).repo_path(path)
    except KeyError:
        return None
    data: bytes = blob.data_stream.read()
    return data


def read_now(ws: Workspace, path: str) -> bytes | None:
    """The bytes of workspace file `path` in the working tree; None when it is not there."""
    file = ws.root / path
    return file.read_bytes() if file.is_file() else None


def parameter_changes(where: str, params: Any, base: Any) -> list[str]:
    """One line per routing key that `params` (at `where`) sets differently from `base`."""
    params = params if isinstance(params, dict) else {}
    base = base if isinstance(base, dict) else {}
    return [
        f"{where}: parameter {key!r} would route calls (and keys) elsewhere"
        for key in sorted(ROUTING_PARAMETERS & set(params))
        if params.get(key) != base.get(key)
    ]


def prompt_changes(ws: Workspace, suite: Suite, commit: Any) -> list[str]:
    """Routing parameters and `${env:...}` references a working-tree prompt adds."""
    from promptyard.prompts import parse_prompt

    out = []
    for prompt in suite.prompts:
        path = f"prompts/{prompt}.prompty"
        now, base = read_now(ws, path), read_at(ws, commit, path)
        if now is None or now == base:
            continue
        text, base_text = now.decode("utf-8", "replace"), (base or b"").decode("utf-8", "replace")
        added = sorted(set(_ENV_REF.findall(text)) - set(_ENV_REF.findall(base_text)))
        if added:
            out.append(f"{path}: reads environment variables {', '.join(added)}")
        try:
            params = parse_prompt(text, prompt, source=path).parameters
            base_params = parse_prompt(base_text, prompt, source=path).parameters if base else {}
        except PromptyardError:
            continue  # an unparsable prompt is reported by planning, as a config error
        out += parameter_changes(path, params, base_params)
    return out
