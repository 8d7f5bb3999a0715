"""guardrails.yaml: the policies, parsed with the file and line of every mistake.

A bad working-tree file never leaves a run unguarded: `load_policies` then falls back to
the newest committed version that parses and says so (`Policies.warning`), as
`monitoring.config` does for monitors.yaml.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from promptyard.guardrails.plugins import plugin_names
from promptyard.guardrails.policy import (
    ACTIONS,
    GUARDRAILS_FILE,
    MAX_RETRIES,
    PLUGIN_ACTIONS,
    STAGES,
    Action,
    Check,
    CheckKind,
    GuardrailsError,
    PiiKind,
    Policies,
    Policy,
    Stage,
)
from promptyard.versioning import in_force
from promptyard.workspace import Workspace

_POLICY_KEYS = {"description", "restore", "input", "output"}
# The options each built-in check takes, beside `check` and `action`.
_OPTIONS: dict[str, set[str]] = {
    CheckKind.PII: {"kinds", "region"},
    CheckKind.INJECTION: {"patterns"},
    CheckKind.LENGTH: {"max_chars"},
    CheckKind.JSON: {"schema", "retries"},
    CheckKind.BANNED: {"terms", "regexes", "ignore_case", "retries"},
    CheckKind.JUDGE: {"prompt", "model", "rubric", "retries"},
}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {str(k.value): (k, v) for k, v in node.value}


def _value(node: yaml.Node) -> Any:
    return yaml.safe_load(yaml.serialize(node))


def parse_guardrails(text: str, path: str = GUARDRAILS_FILE) -> dict[str, Policy]:
    """The policies in `text`, by name; GuardrailsError `path:line: what` on the first mistake."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", exc)
        raise GuardrailsError(f"{path}:{line}: not valid YAML ({problem})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode) or "policies" not in _mapping(root):
        raise GuardrailsError(f"{path}:{_line(root)}: expected a mapping with a 'policies:' key")
    for key, (knode, _) in _mapping(root).items():
        if key != "policies":
            raise GuardrailsError(f"{path}:{_line(knode)}: unknown key {key!r} (known: policies)")
    node = _mapping(root)["policies"][1]
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "null", "~"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise GuardrailsError(f"{path}:{_line(node)}: 'policies' must map names to policies")
    out: dict[str, Policy] = {}
    for key, (knode, vnode) in _mapping(node).items():
        if key in out:
            raise GuardrailsError(f"{path}:{_line(knode)}: policy {key!r} is defined twice")
        out[key] = _policy(key, vnode, path, _line(knode))
    return out


def _policy(name: str, node: yaml.Node, path: str, line: int) -> Policy:
    if not isinstance(node, yaml.MappingNode):
        raise GuardrailsError(f"{path}:{_line(node)}: policy {name!r} must be a mapping")
    m = _mapping(node)
    for key, (knode, _) in m.items():
        if key not in _POLICY_KEYS:
            raise GuardrailsError(
                f"{path}:{_line(knode)}: unknown key {key!r} in policy {name!r} "
                f"(known: {', '.join(sorted(_POLICY_KEYS))})"
            )
    restore = False
    if "restore" in m:
        restore = _value(m["restore"][1])
        if not isinstance(restore, bool):
            raise GuardrailsError(f"{path}:{_line(m['restore'][1])}: restore must be true or false")
    stages: dict[Stage, tuple[Check, ...]] = {}
    for stage in Stage:
        if stage.value not in m:
            stages[stage] = ()
            continue
        seq = m[stage.value][1]
        if not isinstance(seq, yaml.SequenceNode):
            raise GuardrailsError(f"{path}:{_line(seq)}: '{stage.value}' must be a list of checks")
        stages[stage] = tuple(_check(item, stage, path) for item in seq.value)
    description = str(_value(m["description"][1]) or "") if "description" in m else ""
    return Policy(
        name,
        stages[Stage.INPUT],
        stages[Stage.OUTPUT],
        restore,
        description,
        line=line,
    )


def _check(node: yaml.Node, stage: Stage, path: str) -> Check:
    if not isinstance(node, yaml.MappingNode):
        raise GuardrailsError(f"{path}:{_line(node)}: each check must be a mapping (check: ...)")
    m = _mapping(node)
    if "check" not in m:
        raise GuardrailsError(f"{path}:{_line(node)}: a check needs 'check:' (what to check)")
    if "action" not in m:
        raise GuardrailsError(f"{path}:{_line(node)}: a check needs 'action:' (what to do)")
    cnode, anode = m["check"][1], m["action"][1]
    kind = str(_value(cnode))
    builtin = kind in {k.value for k in CheckKind}
    if not builtin and kind not in plugin_names():
        plugins = ", ".join(sorted(plugin_names())) or "none"
        raise GuardrailsError(
            f"{path}:{_line(cnode)}: unknown check {kind!r} (built in: "
            f"{', '.join(CheckKind)}; plugins installed: {plugins})"
        )
    action_text = str(_value(anode))
    if action_text not in {a.value for a in Action}:
        raise GuardrailsError(
            f"{path}:{_line(anode)}: unknown action {action_text!r} (known: {', '.join(Action)})"
        )
    action = Action(action_text)
    allowed = ACTIONS.get(kind, PLUGIN_ACTIONS)
    if action not in allowed:
        raise GuardrailsError(
            f"{path}:{_line(anode)}: check {kind!r} cannot {action.value} "
            f"(it can: {', '.join(sorted(allowed))})"
        )
    if stage not in STAGES.get(kind, frozenset(Stage)):
        raise GuardrailsError(f"{path}:{_line(cnode)}: check {kind!r} is not an {stage} check")
    options: dict[str, Any] = {}
    for key, (knode, vnode) in m.items():
        if key in ("check", "action"):
            continue
        if builtin and key not in _OPTIONS[kind]:
            known = ", ".join(sorted(_OPTIONS[kind])) or "none"
            raise GuardrailsError(
                f"{path}:{_line(knode)}: unknown option {key!r} for check {kind!r} (known: {known})"
            )
        options[key] = _value(vnode)
        try:
            _check_option(kind, key, options[key])
        except ValueError as exc:
            raise GuardrailsError(f"{path}:{_line(vnode)}: {key}: {exc}") from None
    if kind == CheckKind.LENGTH and "max_chars" not in options:
        raise GuardrailsError(f"{path}:{_line(node)}: check 'length' needs 'max_chars:'")
    if kind == CheckKind.BANNED and not (options.get("terms") or options.get("regexes")):
        raise GuardrailsError(f"{path}:{_line(node)}: check 'banned' needs 'terms:' or 'regexes:'")
    return Check(kind, action, stage, options, _line(node))


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return value


def _check_option(kind: str, key: str, value: Any) -> None:
    """Raise ValueError saying what is wrong with one option's value."""
    if key == "kinds":
        unknown = [k for k in _strings(value) if k not in {p.value for p in PiiKind}]
        if unknown:
            raise ValueError(f"unknown kind {unknown[0]!r} (known: {', '.join(PiiKind)})")
    elif key in ("terms", "patterns"):
        _strings(value)
    elif key == "regexes":
        for pattern in _strings(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from None
    elif key == "max_chars":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("must be a whole number of characters, 1 or more")
    elif key == "retries":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RETRIES:
            raise ValueError(f"must be a whole number from 0 to {MAX_RETRIES}")
    elif key == "schema":
        if value != "prompt" and not isinstance(value, dict):
            raise ValueError("write 'prompt' (the prompt's outputs) or a JSON schema mapping")
    elif key in ("ignore_case",) and not isinstance(value, bool):
        raise ValueError("must be true or false")
    elif key in ("region", "prompt", "model", "rubric") and not isinstance(value, str):
        raise ValueError("must be a string")


def load_policies(ws: Workspace) -> Policies:
    """The policies in force: the working-tree guardrails.yaml when it parses, else the newest
    committed version that does (with a warning naming the mistake), else none."""
    found = in_force(ws, GUARDRAILS_FILE, parse_guardrails, (GuardrailsError,))
    if found.value is None:
        why = found.error and f"{found.error}; no committed version parses, no policy applies"
        return Policies({}, "none", why)
    if found.error is None:
        return Policies(found.value, found.source)
    tagged = {n: _with_source(p, found.source) for n, p in found.value.items()}
    return Policies(tagged, found.source, f"{found.error}; using the last good {found.source}")


def _with_source(policy: Policy, source: str) -> Policy:
    from dataclasses import replace

    return replace(policy, source=source)


def load_policy(ws: Workspace, name: str) -> Policy:
    """The policy `name` in force (see `load_policies`); GuardrailsError when there is none."""
    return load_policies(ws).get(name)
