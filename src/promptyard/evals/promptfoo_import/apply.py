"""Saving an import: prompts, the dataset and the suite, each committed, and the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from promptyard.errors import PromptyardError
from promptyard.evals.promptfoo_import.build import Plan, build
from promptyard.evals.promptfoo_import.providers import ECHO_MODEL
from promptyard.evals.promptfoo_import.reading import PromptfooImportError
from promptyard.workspace import Workspace


@dataclass
class ImportReport:
    """What `import_promptfoo` saved (names and versions) and what it could not carry over."""

    config: str
    prompts: dict[str, str] = field(default_factory=dict)  # name -> version tag
    dataset: str | None = None
    dataset_version: str | None = None
    rows: int = 0
    suite: str | None = None
    suite_version: str | None = None
    models: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (for `--json`)."""
        return dict(self.__dict__)

    def lines(self) -> list[str]:
        """The report as text lines, for the terminal."""
        out = [f"imported {self.config}"]
        for name, tag in self.prompts.items():
            out.append(f"  prompt  prompts/{name}.prompty ({tag})")
        if self.dataset:
            out.append(
                f"  dataset datasets/{self.dataset}.jsonl ({self.dataset_version}, {self.rows} rows)"
            )
        if self.suite:
            out.append(f"  suite   evals/{self.suite}.yaml ({self.suite_version})")
        out.append(f"  models  {', '.join(self.models)}")
        if self.skipped:
            out.append(f"skipped {len(self.skipped)} test(s):")
            out.extend(f"  - {s}" for s in self.skipped)
        if self.notes:
            out.append("not carried over:")
            out.extend(f"  - {n}" for n in self.notes)
        if self.suite:
            out.append(f"run it: promptyard eval {self.suite}")
        return out


def _unique_names(asserts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for a in asserts:
        name = a.get("name")
        if name:
            n, candidate = 1, name
            while candidate in seen:
                n += 1
                candidate = f"{name} #{n}"
            seen.add(candidate)
            a = {**a, "name": candidate}
        out.append(a)
    return out


def suite_text(plan: Plan) -> str:
    """The suite file `plan` describes, as YAML."""
    data: dict[str, Any] = {
        "description": plan.description,
        "prompts": list(plan.prompts),
        "models": plan.models,
        "dataset": plan.name,
        "assert": _unique_names(plan.asserts),
        "threshold": 1.0,
    }
    if plan.parameters:
        data["parameters"] = plan.parameters
    head = "# Imported from promptfoo by `promptyard import promptfoo`.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)


def import_promptfoo(ws: Workspace, config: str | Path, *, name: str | None = None) -> ImportReport:
    """Import the promptfoo project whose config is `config` into workspace `ws`.

    Prompts, the dataset and the suite are each validated first and then committed (one
    version each). Raises PromptfooImportError (nothing saved) when no prompt or provider
    can be carried over, or when what would be saved is not valid.
    """
    from promptyard.datasets import save_dataset
    from promptyard.evals.suites import parse_suite, suite_path
    from promptyard.prompts import dump_prompt, parse_prompt, save_prompt
    from promptyard.versioning import Store

    path = Path(config)
    plan = build(ws, path, name)
    report = ImportReport(config=str(path), models=list(plan.models))
    texts: dict[str, str] = {}
    for pname, body in plan.prompts.items():
        text = dump_prompt(
            body, name=pname, description=f"Imported from promptfoo: {plan.prompt_sources[pname]}"
        )
        problem = _render_problem(parse_prompt, text, pname, plan.rows)
        if problem:
            plan.notes.append(
                f"prompt {pname} ({plan.prompt_sources[pname]}): {problem}; not imported"
            )
            continue
        texts[pname] = text
    if not texts:
        raise PromptfooImportError(
            f"{path}: no prompt can be carried over ({'; '.join(plan.notes)})"
        )
    plan.prompts = {k: v for k, v in plan.prompts.items() if k in texts}
    suite_yaml = suite_text(plan) if plan.asserts else None
    if suite_yaml is not None:
        try:
            parse_suite(suite_yaml, plan.name, root=ws.root, path=suite_path(plan.name))
        except PromptyardError as exc:
            raise PromptfooImportError(f"{path}: the imported suite is not valid: {exc}") from None
    elif plan.rows:
        plan.notes.append("no assertions: no suite written (prompts and dataset only)")
    else:
        plan.notes.append("no test could be carried over: no dataset and no suite written")
    if ECHO_MODEL in plan.models:
        _check_echo(ws, plan)
    source = path.name
    for pname, text in texts.items():
        existing = ws.prompts_dir / f"{pname}.prompty"
        if existing.is_file() and existing.read_text(encoding="utf-8") != text:
            plan.notes.append(f"prompts/{pname}.prompty existed; the import saved a new version")
        version = save_prompt(
            pname, text, f"Import prompt {pname} from promptfoo {source}", workspace=ws
        )
        report.prompts[pname] = version.tag
    if plan.rows:
        saved = save_dataset(ws, plan.name, plan.rows, f"Import tests from promptfoo {source}")
        report.dataset, report.dataset_version, report.rows = plan.name, saved.ref, len(plan.rows)
    elif suite_yaml is not None:
        plan.notes.append("no test could be carried over: no dataset and no suite written")
        suite_yaml = None
    if suite_yaml is not None:
        version = Store(ws).save(
            suite_path(plan.name), suite_yaml, f"Import suite {plan.name} from promptfoo {source}"
        )
        report.suite, report.suite_version = plan.name, version.tag
    report.skipped, report.notes = plan.skipped, plan.notes
    return report


def _render_problem(parse: Any, text: str, name: str, rows: list[dict[str, Any]]) -> str | None:
    """Why the prompt cannot be saved or rendered with the imported rows, else None."""
    try:
        template = parse(text, name, source=f"prompts/{name}.prompty")
    except PromptyardError as exc:
        return " ".join(str(exc).split())
    for row in rows:
        try:
            template.render(row)
        except Exception as exc:  # the sandbox raises jinja's own errors too (unknown filter)
            message = " ".join(str(exc).splitlines()[0].split()) if str(exc) else type(exc).__name__
            return f"does not render for test {row['id']}: {message}"
    return None


def _check_echo(ws: Workspace, plan: Plan) -> None:
    from promptyard.models import resolve_model

    try:
        resolve_model(ws, ECHO_MODEL)
    except PromptyardError:
        plan.notes.append(
            f"model {ECHO_MODEL!r} (promptfoo's echo provider) is not available in this "
            "Promptyard; the suite names it and runs once it exists"
        )
