"""monitors.yaml: what to watch in live traffic, parsed with the file and line of every mistake.

A bad working-tree file never stops monitoring: `load_monitors` then falls back to the
newest committed version that parses and says so (`Monitors.warning`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

from promptyard.errors import PromptyardError
from promptyard.versioning import in_force
from promptyard.workspace import Workspace

MONITORS_FILE = "monitors.yaml"
FILTER_KEYS = ("prompt", "label", "model", "service")
_WINDOW = re.compile(r"^(\d+)\s*(m|h|d)$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_LATENCY = re.compile(r"^latency_p(\d{1,2}|100)$")
_KEYS = {
    "name", "metric", "evaluator", "suite", "feedback", "filter", "window", "condition",
    "min_count", "webhook_env",
}  # fmt: skip


class MonitorsError(PromptyardError):
    """A monitors.yaml mistake: the message starts with `file:line:`."""


class Metric(StrEnum):
    PASS_RATE = "pass_rate"
    MEAN_FEEDBACK = "mean_feedback"
    ERROR_RATE = "error_rate"
    LATENCY = "latency"  # written latency_p50, latency_p95, latency_p99 ...
    COST_PER_HOUR = "cost_per_hour"
    TOKENS_PER_HOUR = "tokens_per_hour"


class ConditionKind(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    DECLINE_VS_PREVIOUS_WINDOW = "previous_window"
    DECLINE_VS_PREVIOUS_VERSION = "previous_version"


# Metrics where a higher value is better: a decline is a drop. For the others it is a rise.
HIGHER_IS_BETTER = {Metric.PASS_RATE, Metric.MEAN_FEEDBACK}
PROPORTIONS = {Metric.PASS_RATE, Metric.ERROR_RATE}


@dataclass(frozen=True)
class Condition:
    kind: ConditionKind
    threshold: float | None = None  # above / below
    alpha: float = 0.05  # decline: the p-value must be below this


@dataclass(frozen=True)
class Monitor:
    """One monitor of monitors.yaml."""

    name: str
    metric: Metric
    window_s: int
    window: str
    condition: Condition
    filter: dict[str, str] = field(default_factory=dict)
    percentile: int | None = None  # latency
    evaluator: str | None = None  # pass_rate
    suite: str | None = None  # pass_rate, optional
    feedback: str | None = None  # mean_feedback: the rating scheme name
    min_count: int = 10
    webhook_env: str | None = None  # the NAME of the env var holding the URL, never the URL
    line: int = 0

    @property
    def metric_label(self) -> str:
        return f"latency_p{self.percentile}" if self.metric is Metric.LATENCY else self.metric


@dataclass(frozen=True)
class Monitors:
    """The monitors in force, where they came from and, after a fallback, why."""

    monitors: list[Monitor]
    source: str  # "working tree", "vN" or "none"
    warning: str | None = None


def parse_window(text: str) -> int:
    """Seconds in a window written like 30m, 1h or 7d; ValueError otherwise."""
    m = _WINDOW.match(str(text).strip())
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"bad window {text!r} (write e.g. 30m, 1h, 1d)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    return {str(k.value): (k, v) for k, v in node.value}


def parse_monitors(text: str, path: str = MONITORS_FILE) -> list[Monitor]:
    """The monitors in `text`; MonitorsError `path:line: what` on the first mistake."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise MonitorsError(
            f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode) or "monitors" not in _mapping(root):
        raise MonitorsError(f"{path}:{_line(root)}: expected a mapping with a 'monitors:' list")
    seq = _mapping(root)["monitors"][1]
    if isinstance(seq, yaml.ScalarNode) and seq.value in ("", "null", "~"):
        return []
    if not isinstance(seq, yaml.SequenceNode):
        raise MonitorsError(f"{path}:{_line(seq)}: 'monitors' must be a list")
    out: list[Monitor] = []
    for item in seq.value:
        monitor = _parse_one(item, path)
        if any(m.name == monitor.name for m in out):
            raise MonitorsError(f"{path}:{_line(item)}: monitor {monitor.name!r} is defined twice")
        out.append(monitor)
    return out


def _scalar(node: yaml.Node, path: str, what: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise MonitorsError(f"{path}:{_line(node)}: {what} must be a single value")
    return yaml.safe_load(yaml.serialize(node))


def _number(node: yaml.Node, path: str, what: str) -> float:
    value = _scalar(node, path, what)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MonitorsError(f"{path}:{_line(node)}: {what} must be a number, not {value!r}")
    return float(value)


def _parse_one(node: yaml.Node, path: str) -> Monitor:
    if not isinstance(node, yaml.MappingNode):
        raise MonitorsError(f"{path}:{_line(node)}: each monitor must be a mapping")
    m = _mapping(node)
    for key, (knode, _) in m.items():
        if key not in _KEYS:
            raise MonitorsError(
                f"{path}:{_line(knode)}: unknown key {key!r} (known: {', '.join(sorted(_KEYS))})"
            )
    for required in ("name", "metric", "window", "condition"):
        if required not in m:
            raise MonitorsError(f"{path}:{_line(node)}: monitor lacks '{required}'")
    name = str(_scalar(m["name"][1], path, "name"))
    kw: dict[str, Any] = {"name": name, "line": _line(node)}
    mnode = m["metric"][1]
    metric_text = str(_scalar(mnode, path, "metric"))
    lat = _LATENCY.match(metric_text)
    known = [x.value for x in Metric if x is not Metric.LATENCY] + ["latency_p50", "latency_p95"]
    if lat:
        kw["metric"], kw["percentile"] = Metric.LATENCY, int(lat.group(1))
    elif metric_text in {x.value for x in Metric} - {Metric.LATENCY}:
        kw["metric"] = Metric(metric_text)
    else:
        raise MonitorsError(
            f"{path}:{_line(mnode)}: unknown metric {metric_text!r} (known: {', '.join(known)})"
        )
    for key in ("evaluator", "suite", "feedback", "webhook_env"):
        if key in m:
            kw[key] = str(_scalar(m[key][1], path, key))
    if kw["metric"] is Metric.PASS_RATE and "evaluator" not in kw:
        raise MonitorsError(f"{path}:{_line(mnode)}: metric pass_rate needs 'evaluator:'")
    if kw["metric"] is Metric.MEAN_FEEDBACK and "feedback" not in kw:
        raise MonitorsError(f"{path}:{_line(mnode)}: metric mean_feedback needs 'feedback:'")
    wnode = m["window"][1]
    try:
        kw["window_s"] = parse_window(str(_scalar(wnode, path, "window")))
        kw["window"] = str(wnode.value)
    except ValueError as exc:
        raise MonitorsError(f"{path}:{_line(wnode)}: {exc}") from None
    if "filter" in m:
        kw["filter"] = _parse_filter(m["filter"][1], path)
    if "min_count" in m:
        count = _number(m["min_count"][1], path, "min_count")
        if count < 1 or count != int(count):
            raise MonitorsError(f"{path}:{_line(m['min_count'][1])}: min_count must be 1 or more")
        kw["min_count"] = int(count)
    kw["condition"] = _parse_condition(m["condition"][1], path)
    return Monitor(**kw)


def _parse_filter(node: yaml.Node, path: str) -> dict[str, str]:
    if not isinstance(node, yaml.MappingNode):
        raise MonitorsError(f"{path}:{_line(node)}: filter must be a mapping, e.g. prompt: x")
    out: dict[str, str] = {}
    for key, (knode, vnode) in _mapping(node).items():
        if key not in FILTER_KEYS:
            raise MonitorsError(
                f"{path}:{_line(knode)}: unknown filter {key!r} (known: {', '.join(FILTER_KEYS)})"
            )
        out[key] = str(_scalar(vnode, path, f"filter {key}"))
    return out


def _parse_condition(node: yaml.Node, path: str) -> Condition:
    hint = "above: N, below: N, or decline: previous_window | previous_version"
    if not isinstance(node, yaml.MappingNode):
        raise MonitorsError(f"{path}:{_line(node)}: condition must be a mapping ({hint})")
    m = _mapping(node)
    for key, (knode, _) in m.items():
        if key not in ("above", "below", "decline", "alpha"):
            raise MonitorsError(f"{path}:{_line(knode)}: unknown condition {key!r} ({hint})")
    kinds = [k for k in ("above", "below", "decline") if k in m]
    if len(kinds) != 1:
        raise MonitorsError(f"{path}:{_line(node)}: a condition needs exactly one of {hint}")
    alpha = 0.05
    if "alpha" in m:
        alpha = _number(m["alpha"][1], path, "alpha")
        if not 0 < alpha < 1:
            raise MonitorsError(f"{path}:{_line(m['alpha'][1])}: alpha must be between 0 and 1")
    kind = kinds[0]
    vnode = m[kind][1]
    if kind == "decline":
        against = str(_scalar(vnode, path, "decline"))
        if against not in ("previous_window", "previous_version"):
            raise MonitorsError(
                f"{path}:{_line(vnode)}: decline against {against!r}? "
                "write previous_window or previous_version"
            )
        return Condition(ConditionKind(against), alpha=alpha)
    return Condition(ConditionKind(kind), threshold=_number(vnode, path, kind), alpha=alpha)


def load_monitors(ws: Workspace) -> Monitors:
    """The monitors in force: the working-tree monitors.yaml when it parses, else the newest
    committed version that does (with a warning naming the mistake), else none."""
    found = in_force(ws, MONITORS_FILE, parse_monitors, (MonitorsError,))
    if found.value is None:
        why = found.error and f"{found.error}; no committed version parses, no monitors run"
        return Monitors([], "none", why)
    warning = found.error and f"{found.error}; using the last good {found.source}"
    return Monitors(found.value, found.source, warning)
