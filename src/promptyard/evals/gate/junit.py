"""The gate's result as JUnit XML that CI test reporters read.

It follows the Jenkins xUnit plugin's `junit-10.xsd` (the schema Surefire, pytest and
most reporters write to): one `<testsuite>` per prompt × model holding a `<testcase>`
per current cell plus one for the pass rate against threshold and baseline. Every
testcase and testsuite has `time` (seconds, from the cells' recorded latency),
`<testsuite>` carries `tests`, `failures`, `errors`, `skipped` and an ISO 8601
`timestamp`, `<testsuites>` the totals the schema allows there (`tests`, `failures`,
`errors`, `time`; it has no `skipped`). A cell that failed its assertions is a
`<failure>`, one that failed at the provider an `<error>`, one that never ran
(budget, cancel) `<skipped>`, each with `type` and `message`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from promptyard.evals.gate.cells import CellFacts, VariantInfo
from promptyard.evals.gate.result import Comparison, GateResult
from promptyard.evals.scoring import CellResult

_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    return _XML_BAD.sub("?", text)


def _seconds(ms: float | None) -> float:
    # rounded as written, so that a suite's time is exactly the sum of its cases' times
    return round((ms or 0.0) / 1000.0, 3)


def _time(seconds: float) -> str:
    return f"{seconds:.3f}"  # the schema's time allows at most three decimals


def _timestamp(when: datetime | None) -> str:
    when = when or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # stored times are UTC
    return when.astimezone(UTC).isoformat(timespec="seconds")


class _Counts:
    def __init__(self) -> None:
        self.tests = self.failures = self.errors = self.skipped = 0
        self.time = 0.0


def _cell_case(
    parent: ET.Element,
    classname: str,
    fact: CellFacts,
    cell: CellResult | None,
    result: GateResult,
    counts: _Counts,
) -> None:
    seconds = _seconds(fact.latency_ms) if fact.ran else 0.0
    name = f"row {fact.row_id}" + (f" repeat {fact.repeat}" if fact.repeat else "")
    case = ET.SubElement(
        parent, "testcase", classname=classname, name=_x(name), time=_time(seconds)
    )
    counts.tests += 1
    counts.time += seconds
    if not fact.ran or cell is None:
        counts.skipped += 1
        why = result.run_message or f"the run ended {result.run_status}"
        ET.SubElement(case, "skipped", type="not-run", message=_x(f"not run: {why}"))
        return
    if fact.errored:
        counts.errors += 1
        kind = fact.error_kind or "error"
        error = ET.SubElement(
            case, "error", type=_x(kind), message=_x(f"{kind}: {fact.error_message or ''}".strip())
        )
        error.text = _x(fact.error_message or "")
        return
    if cell.passed:
        return
    counts.failures += 1
    types = {a.name: a.type for a in result.suite.assertions}
    weights = {a.name: a.weight for a in result.suite.assertions}
    failed = [(n, g) for n, g in cell.grades.items() if not g.passed]
    failed.sort(key=lambda item: weights.get(item[0], 1.0) <= 0)
    reasons = "; ".join(f"{n}: {g.reason}" for n, g in failed[:3])
    if len(failed) > 3:
        reasons += f" (+{len(failed) - 3} more)"
    failure = ET.SubElement(
        case,
        "failure",
        type=_x(",".join(dict.fromkeys(types.get(n, n) for n, _ in failed)) or "row-threshold"),
        message=_x(f"score {cell.score:.2f}: {reasons or 'below the row threshold'}"),
    )
    failure.text = _x(
        "\n".join(
            f"{n}: {'pass' if g.passed else 'FAIL'} ({g.reason})" for n, g in cell.grades.items()
        )
    )


def _check_case(
    parent: ET.Element, classname: str, c: Comparison | None, current: VariantInfo, counts: _Counts
) -> None:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=classname,
        name="pass rate against threshold and baseline",
        time=_time(0.0),
    )
    counts.tests += 1
    if c is None:
        counts.failures += 1
        ET.SubElement(
            case,
            "failure",
            type="not-scored",
            message=_x(f"{current.prompt} on {current.model}: no cell finished"),
        )
        return
    if c.failed or c.regressed:
        counts.failures += 1
        msg = f"{c.verdict}: pass rate {c.current.pass_rate:.0%}"
        if c.baseline is not None:
            msg += f", baseline {c.baseline.pass_rate:.0%} ({c.baseline_desc})"
        kinds = [k for k, on in (("threshold", c.failed), ("regression", c.regressed)) if on]
        ET.SubElement(case, "failure", type=",".join(kinds), message=_x(msg))


def _set(el: ET.Element, counts: _Counts, skipped: bool = True) -> None:
    el.set("tests", str(counts.tests))
    el.set("failures", str(counts.failures))
    el.set("errors", str(counts.errors))
    if skipped:
        el.set("skipped", str(counts.skipped))
    el.set("time", _time(round(counts.time, 3)))


def junit_xml(result: GateResult) -> str:
    """JUnit XML: per prompt × model a testsuite of its current cells and its verdict."""
    s = result.suite
    stamp = _timestamp(result.started_at)
    root = ET.Element("testsuites", name=_x(f"promptyard eval {s.name}"))
    total = _Counts()
    by_current = {c.current.variant_id: c for c in result.comparisons}
    cells = {cell.cell_id: cell for cell in result.scores.cells}
    for current, baseline in result.pairs:
        classname = _x(f"{s.name}.{current.prompt}.{current.model}")
        suite_el = ET.SubElement(
            root,
            "testsuite",
            name=_x(f"{s.name}: {current.prompt} on {current.model}"),
            timestamp=stamp,
        )
        props = ET.SubElement(suite_el, "properties")
        for key, value in (
            ("prompt", current.prompt),
            ("model", current.model),
            ("current", current.source),
            ("baseline", baseline.source if baseline else "none (new prompt)"),
            ("run_id", str(result.run_id)),
        ):
            ET.SubElement(props, "property", name=key, value=_x(value))
        counts = _Counts()
        for fact in result.facts:
            if fact.variant_id == current.variant_id:
                _cell_case(suite_el, classname, fact, cells.get(fact.cell_id), result, counts)
        _check_case(suite_el, classname, by_current.get(current.variant_id), current, counts)
        _set(suite_el, counts)
        for attr in ("tests", "failures", "errors", "skipped"):
            setattr(total, attr, getattr(total, attr) + getattr(counts, attr))
        total.time += counts.time
    _set(root, total, skipped=False)  # junit-10.xsd has no `skipped` on <testsuites>
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
