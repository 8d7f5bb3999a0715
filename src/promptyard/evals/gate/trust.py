"""What the gate trusts: model endpoints, custom evaluators, judge prompts and its own
settings come from the baseline revision (a git commit), never from a pull request.

`trusted_inputs(ws, suite, ...)` reads `models.yaml`, the suite's `evaluators/*.py`, its
judge prompts and `gate.yaml` at that commit, compares them with the working tree, and
raises `GateTrustError` (exit 2) naming every difference unless the working tree is
trusted. It also refuses routing keys (`api_base`, `api_key`, ...) that the working tree
adds to call parameters and `${env:...}` references it adds to a prompt, so a key goes
only to its endpoint's own host. What comes back holds the endpoints to call and the
suite re-rooted on a snapshot of the baseline's evaluator files.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.evals.evaluators import RUBRIC_TYPE
from promptyard.evals.evaluators.custom import custom_path
from promptyard.evals.gate.result import GateConfigError
from promptyard.evals.gate.routing import parameter_changes, prompt_changes, read_at, read_now
from promptyard.evals.gate.settings import GATE_FILE, allowed_code
from promptyard.evals.suites import Suite
from promptyard.workspace import Workspace

_ENDPOINT_FIELDS = ("litellm_model", "api_base", "api_key_env", "provider_kind")


class GateTrustError(GateConfigError):
    """The working tree changes what the gate trusts (exit 2 without the trust flag)."""

    def __init__(self, changes: list[str], source: str) -> None:
        self.changes = changes
        super().__init__(
            f"the working tree changes what the gate takes from the baseline {source}: "
            + "; ".join(changes)
            + ". Review them and rerun with --trust-working-tree to use them"
        )


@dataclass
class TrustedInputs:
    """The gate's trusted inputs: where they come from and what the run may use."""

    source: str  # "origin/main 1a2b3c4d", "working tree (trusted)"
    commit: str | None
    trust_working_tree: bool
    suite: Suite  # custom evaluators re-rooted on the snapshot when not trusting
    endpoints: dict[str, Any]  # model name -> ModelEndpoint to call
    code_files: list[Path] = field(default_factory=list)  # custom files allowed to load
    snapshot: Path | None = None  # temporary folder with the baseline's files

    def close(self) -> None:
        """Remove the snapshot folder."""
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)
            self.snapshot = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "commit": self.commit,
            "working_tree_trusted": self.trust_working_tree,
            "custom_code": [p.name for p in self.code_files],
        }


def trusted_commit(ws: Workspace, baseline: str | None, trusted_ref: str | None) -> tuple[str, Any]:
    """The commit the gate trusts: `trusted_ref`, else `baseline` when it names a git
    commit (a branch, tag or sha), else HEAD. Returns (how to name it, commit or None)."""
    from promptyard.versioning.store import Store

    repo = Store(ws).repo
    for ref in (trusted_ref, baseline):
        if ref is None:
            continue
        try:
            commit = repo.commit(ref)
        except Exception:  # noqa: BLE001 - gitpython raises several kinds for a bad name
            if ref is trusted_ref:
                raise GateConfigError(
                    f"--trusted-ref {ref!r} is not a git branch, tag or commit"
                ) from None
            continue
        return f"{ref} {commit.hexsha[:8]}", commit
    if not repo.head.is_valid():
        return "HEAD (no commit yet)", None
    return f"HEAD {repo.head.commit.hexsha[:8]}", repo.head.commit


def _changed(path: str, base: bytes | None, now: bytes | None, what: str) -> str | None:
    if base == now:
        return None
    if base is None:
        return f"{path} ({what}) is new in the working tree"
    if now is None:
        return f"{path} ({what}) is deleted in the working tree"
    return f"{path} ({what}) is changed in the working tree"


def _judge_prompts(suite: Suite) -> list[tuple[str, str | None]]:
    from promptyard.evals.judges import JUDGE_DEFAULT_PROMPT

    out = []
    for a in suite.assertions:
        if a.base_type == RUBRIC_TYPE:
            name, _, ref = str(a.options.get("prompt") or JUDGE_DEFAULT_PROMPT).partition("@")
            if (name, ref or None) not in out:
                out.append((name, ref or None))
    return out


def _model_names(suite: Suite, judge_models: list[str]) -> list[str]:
    names = list(suite.models)
    for a in suite.assertions:
        for key in ("provider", "model"):
            value = a.options.get(key)
            if isinstance(value, str) and value not in names:
                names.append(value)
    return names + [m for m in judge_models if m not in names]


def _endpoint_change(name: str, base: Any, now: Any, base_error: str | None) -> str | None:
    if now is None:
        return None  # resolving in the working tree failed: the suite check reports it
    if base is None:
        if now.source == "models.yaml":
            return f"models.yaml: model {name!r} is new in the working tree ({base_error})"
        return None
    if base == now:
        return None
    parts = []
    if base.api_base != now.api_base:
        parts.append(
            f"api_base changes from {base.api_base or 'the provider default'} to "
            f"{now.api_base or 'the provider default'} (its key would go to another host)"
        )
    if base.api_key_env != now.api_key_env:
        parts.append(
            f"api_key_env {'is added' if base.api_key_env is None else 'changes'}: "
            f"{now.api_key_env or 'none'} (the working tree would choose which secret is sent)"
        )
    other = [
        f
        for f in _ENDPOINT_FIELDS
        if f not in ("api_base", "api_key_env")
        if getattr(base, f) != getattr(now, f)
    ]
    if other or not parts:
        parts.append("changed: " + ", ".join(other or ["its settings"]))
    return f"models.yaml: model {name!r}: " + "; ".join(parts)


def _judge_model(ws: Workspace, commit: Any, name: str, ref: str | None, trust: bool) -> str:
    """The model a judge prompt names (from its trusted text), else the judge default."""
    from promptyard.prompts import parse_prompt
    from promptyard.prompts.api import get_prompt

    path = f"prompts/{name}.prompty"
    try:
        if ref is not None or trust:
            return get_prompt(name, ref, workspace=ws).model or "sim-smart"
        text = read_at(ws, commit, path)
        if text is None:
            return "sim-smart"
        return parse_prompt(text.decode("utf-8"), name, source=path).model or "sim-smart"
    except PromptyardError:
        return "sim-smart"


def _judge_ref_change(ws: Workspace, commit: Any, name: str, ref: str) -> str | None:
    """A judge pinned to `name@ref` is trusted only when that version is in the baseline."""
    from promptyard.versioning.store import Store

    store = Store(ws)
    try:
        version = store.resolve(f"prompts/{name}.prompty", ref)
    except PromptyardError:
        return None  # the judge reports the unknown version itself
    if commit is not None and store.repo.is_ancestor(store.repo.commit(version.sha), commit):
        return None
    return f"prompts/{name}.prompty@{ref} (judge prompt) is a version the baseline does not have"


def _resolve(ws: Workspace, name: str) -> tuple[Any, str | None]:
    from promptyard.models import resolve_model

    try:
        return resolve_model(ws, name), None
    except PromptyardError as exc:
        return None, str(exc)


def trusted_inputs(
    ws: Workspace,
    suite: Suite,
    baseline: str | None = None,
    *,
    trusted_ref: str | None = None,
    trust_working_tree: bool = False,
    allow_code: bool = False,
) -> TrustedInputs:
    """Check and gather what the gate trusts; raise GateTrustError / GateConfigError (exit 2).

    Without `trust_working_tree`, models.yaml, the suite's custom evaluators, its judge
    prompts and gate.yaml must be the same in the working tree as at the trusted commit;
    the endpoints and evaluator files used are the commit's. Custom evaluators run only
    with `allow_code` or when the trusted gate.yaml allows them.
    """
    source, commit = trusted_commit(ws, baseline, trusted_ref)
    if trust_working_tree:
        source = "working tree (trusted)"
    changes: list[str] = []
    snapshot = Path(tempfile.mkdtemp(prefix="promptyard-gate-"))
    try:
        judges = _judge_prompts(suite)
        for name, ref in judges:
            path = f"prompts/{name}.prompty"
            if ref is not None:
                change = _judge_ref_change(ws, commit, name, ref)
            else:
                change = _changed(
                    path, read_at(ws, commit, path), read_now(ws, path), "judge prompt"
                )
            if change:
                changes.append(change)
        change = _changed(
            GATE_FILE, read_at(ws, commit, GATE_FILE), read_now(ws, GATE_FILE), "gate settings"
        )
        if change:
            changes.append(change)
        base_models = read_at(ws, commit, "models.yaml")
        if base_models is not None:
            (snapshot / "models.yaml").write_bytes(base_models)
        base_ws = Workspace(snapshot)
        judge_models = [_judge_model(ws, commit, n, r, trust_working_tree) for n, r in judges]
        endpoints: dict[str, Any] = {}
        for name in _model_names(suite, judge_models):
            now, _ = _resolve(ws, name)
            base, base_error = _resolve(base_ws, name)
            change = _endpoint_change(name, base, now, base_error)
            if change:
                changes.append(change)
            chosen = now if trust_working_tree else base
            if chosen is not None:
                endpoints[name] = chosen
        changes += parameter_changes(suite.where("parameters"), suite.parameters, {})
        for a in suite.assertions:
            changes += parameter_changes(a.where, a.options.get("parameters"), {})
        changes += prompt_changes(ws, suite, commit)
        code = _code_files(ws, suite, commit, snapshot, trust_working_tree, changes)
        if changes and not trust_working_tree:
            raise GateTrustError(changes, source)
        settings_text = (
            read_now(ws, GATE_FILE) if trust_working_tree else read_at(ws, commit, GATE_FILE)
        )
        allowed = _allowed(suite, code, settings_text, allow_code)
        root = ws.root if trust_working_tree else snapshot
        assertions = [
            replace(a, options={**a.options, "_root": str(root)}) if a.base_type == "python" else a
            for a in suite.assertions
        ]
        return TrustedInputs(
            source,
            commit.hexsha if commit is not None else None,
            trust_working_tree,
            replace(suite, assertions=assertions),
            endpoints,
            allowed,
            snapshot,
        )
    except BaseException:
        shutil.rmtree(snapshot, ignore_errors=True)
        raise


def _code_files(
    ws: Workspace, suite: Suite, commit: Any, snapshot: Path, trust: bool, changes: list[str]
) -> dict[str, Path]:
    """The custom evaluator files the suite names -> the file to load (the baseline's copy
    in the snapshot, or the working tree's when trusted); records what differs."""
    out: dict[str, Path] = {}
    (snapshot / "evaluators").mkdir(exist_ok=True)
    for a in suite.assertions:
        if a.base_type != "python":
            continue
        name = custom_path(ws.root, a.value).name
        path = f"evaluators/{name}"
        base = read_at(ws, commit, path)
        change = _changed(path, base, read_now(ws, path), "custom evaluator")
        if change and change not in changes:
            changes.append(change)
        if trust:
            out[name] = ws.root / path
        elif base is not None:
            (snapshot / path).write_bytes(base)
            out[name] = snapshot / path
    return out


def _allowed(
    suite: Suite, code: dict[str, Path], settings_text: bytes | None, allow_code: bool
) -> list[Path]:
    if not code:
        return []
    permitted = allow_code or allowed_code(settings_text)
    refused = [n for n in code if permitted is not True and n not in (permitted or ())]
    if refused:
        files = ", ".join(f"evaluators/{n}" for n in refused)
        raise GateConfigError(
            f"{suite.path}: the suite runs custom Python evaluators ({files}), which run only "
            f"with --allow-code or when the baseline's {GATE_FILE} allows them "
            f"(allow_code: [{', '.join(refused)}]); nothing was run"
        )
    return list(code.values())
