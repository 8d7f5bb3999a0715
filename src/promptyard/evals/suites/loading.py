"""Finding suites in a workspace and loading one, checked against what the workspace holds."""

from __future__ import annotations

from promptyard.errors import NotFoundError, PromptyardError
from promptyard.evals.suites.model import Suite, SuiteError
from promptyard.evals.suites.parsing import parse_suite
from promptyard.workspace import Workspace, validate_name


def suite_path(name: str) -> str:
    """The path of suite `name` in a workspace (`evals/NAME.yaml`); checks the name."""
    return f"evals/{validate_name(name, 'suite')}.yaml"


def list_suites(ws: Workspace) -> list[str]:
    """The names of the suites in the workspace's evals/ folder."""
    return sorted(p.stem for p in ws.evals_dir.glob("*.yaml")) if ws.evals_dir.is_dir() else []


def load_suite(
    ws: Workspace, name: str, ref: str | None = None, *, check_refs: bool = True
) -> Suite:
    """Suite `name` as in the working tree (or at git `ref`), checked against the workspace.

    With `check_refs`, prompts, the dataset and the models it names must exist.
    Raises NotFoundError for an unknown suite, SuiteError for a bad one.
    """
    try:
        rel = suite_path(name)
    except PromptyardError as exc:
        raise SuiteError(str(exc)) from None
    if ref is None:
        file = ws.root / rel
        if not file.is_file():
            known = ", ".join(list_suites(ws)) or "none"
            raise NotFoundError(f"no suite named {name!r} ({rel} does not exist; suites: {known})")
        text = file.read_text(encoding="utf-8")
    else:
        from promptyard.versioning.store import Store

        text = Store(ws).read(rel, ref)
    suite = parse_suite(text, name, root=ws.root, path=rel)
    if check_refs:
        _check_refs(ws, suite)
    return suite


def _check_refs(ws: Workspace, suite: Suite) -> None:
    from promptyard.models import resolve_model

    for p in suite.prompts:
        if not (ws.prompts_dir / f"{p}.prompty").is_file():
            raise SuiteError(
                f"no prompt named {p!r} in prompts/", suite.path, suite.lines.get("prompts")
            )
    if suite.dataset and not (ws.datasets_dir / f"{suite.dataset}.jsonl").is_file():
        raise SuiteError(
            f"no dataset named {suite.dataset!r} in datasets/",
            suite.path,
            suite.lines.get("dataset"),
        )
    for m in suite.models:
        try:
            resolve_model(ws, m)
        except PromptyardError as exc:
            raise SuiteError(str(exc), suite.path, suite.lines.get("models")) from None
