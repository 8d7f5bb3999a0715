"""Automatic evaluators: small pure functions that score one model output.

Each evaluator is `fn(output, context, assertion) -> Grade(value, passed, reason)`, where
`context` carries the dataset row (inputs, reference) and the call's latency, cost and
tokens, and `assertion` is one entry of a suite's `assert:` list (its `value`, `threshold`
and options). Names follow promptfoo's assertion types where one exists (`contains`,
`icontains-any`, `is-json`, `regex`, `levenshtein`, `llm-rubric`, ...), and every
pass/fail check has a `not-` form.

Two kinds of evaluator reach outside the output:
- `llm-rubric` asks a judge model (see `judges.py`), through `providers`, with a rubric
  that is itself a versioned `.prompty` in the workspace; the judge's cost is kept.
- `python` imports a file from the workspace's `evaluators/` folder. That runs code from
  the workspace: it is imported only when a suite names it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

from promptyard.errors import PromptyardError
from promptyard.prompts.tokens import count_tokens


class AssertionConfigError(PromptyardError):
    """An assertion that cannot run: unknown type, bad regex, bad schema, missing value."""


@dataclass(frozen=True)
class Grade:
    """What an evaluator says about one output.

    `value` is 0..1 for checks and similarity scores (None when the evaluator could not
    decide); `error` is True when the evaluator itself failed (a judge answering
    unparseable text, a custom evaluator raising), which counts as not passed.
    """

    value: float | None
    passed: bool
    reason: str
    judge_cost_usd: float | None = None
    error: bool = False


@dataclass(frozen=True)
class EvalContext:
    """The row and the call that produced an output."""

    inputs: dict[str, Any] = field(default_factory=dict)
    reference: str | None = None
    latency_ms: float | None = None
    cost_usd: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    prompt_name: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None  # the call's error, when it failed


@dataclass(frozen=True)
class Assertion:
    """One entry of a suite's `assert:` list."""

    type: str
    value: Any = None
    threshold: float | None = None
    weight: float = 1.0
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    where: str = ""  # "evals/NAME.yaml line N", for messages

    @property
    def negated(self) -> bool:
        return self.type.startswith("not-")

    @property
    def base_type(self) -> str:
        return self.type[4:] if self.negated else self.type

    @property
    def display_name(self) -> str:
        return self.name or self.type

    @property
    def evaluator_id(self) -> str:
        """What the Score table's `evaluator` column holds."""
        if self.base_type == "python":
            return f"custom:{Path(str(self.value)).stem}"
        return self.type


EvaluatorFn = Callable[[str, EvalContext, Assertion], Grade]


@dataclass(frozen=True)
class Evaluator:
    name: str
    fn: EvaluatorFn | None  # None for llm-rubric, which runs asynchronously
    description: str
    negatable: bool = True
    needs_value: bool = True  # a `value:` is required (else the row's reference is used)
    uses_reference: bool = False  # no value: compare with the row's reference
    check: Callable[[Assertion], None] | None = None  # validates the config up front


EVALUATORS: dict[str, Evaluator] = {}


def register(
    name: str,
    description: str,
    *,
    negatable: bool = True,
    needs_value: bool = True,
    uses_reference: bool = False,
    check: Callable[[Assertion], None] | None = None,
) -> Callable[[EvaluatorFn], EvaluatorFn]:
    """Register `fn` as the evaluator for assertion type `name`."""

    def deco(fn: EvaluatorFn) -> EvaluatorFn:
        EVALUATORS[name] = Evaluator(
            name, fn, description, negatable, needs_value, uses_reference, check
        )
        return fn

    return deco


def _ok(passed: bool, reason: str) -> Grade:
    return Grade(1.0 if passed else 0.0, passed, reason)


def _short(text: str, limit: int = 80) -> str:
    one = " ".join(str(text).split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    # promptfoo accepts a comma-separated string for the -any / -all forms
    return [part.strip() for part in str(value).split(",") if part.strip()]


# --- text checks -------------------------------------------------------------------------


@register(
    "equals",
    "the output equals the value (or the row's reference), whitespace-trimmed",
    needs_value=False,
    uses_reference=True,
)
def equals(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    expected = a.value
    if isinstance(expected, dict | list):
        try:
            same = json.loads(output) == expected
        except ValueError:
            same = False
        return _ok(same, "output JSON equals the value" if same else "output JSON differs")
    same = output.strip() == str(expected).strip()
    return _ok(same, "output equals the value" if same else f"expected {_short(expected)!r}")


@register("contains", "the output contains the value")
def contains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    hit = str(a.value) in output
    return _ok(hit, f"{'found' if hit else 'missing'} {_short(a.value)!r}")


@register("icontains", "the output contains the value, ignoring case")
def icontains(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    hit = str(a.value).casefold() in output.casefold()
    return _ok(hit, f"{'found' if hit else 'missing'} {_short(a.value)!r} (any case)")


def _contains_some(output: str, a: Assertion, *, need_all: bool, fold: bool) -> Grade:
    wanted = _as_list(a.value)
    hay = output.casefold() if fold else output
    found = [w for w in wanted if (w.casefold() if fold else w) in hay]
    missing = [w for w in wanted if w not in found]
    passed = not missing if need_all else bool(found)
    if need_all:
        reason = "found all" if passed else f"missing {', '.join(map(repr, missing))}"
    else:
        reason = f"found {found[0]!r}" if found else f"none of {', '.join(map(repr, wanted))}"
    return _ok(passed, reason)


@register("contains-any", "the output contains at least one of the values")
def contains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    return _contains_some(output, a, need_all=False, fold=False)


@register("contains-all", "the output contains every one of the values")
def contains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    return _contains_some(output, a, need_all=True, fold=False)


@register("icontains-any", "the output contains at least one of the values, ignoring case")
def icontains_any(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    return _contains_some(output, a, need_all=False, fold=True)


@register("icontains-all", "the output contains every one of the values, ignoring case")
def icontains_all(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    return _contains_some(output, a, need_all=True, fold=True)


@register("starts-with", "the output starts with the value (leading whitespace ignored)")
def starts_with(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    hit = output.lstrip().startswith(str(a.value))
    return _ok(hit, f"{'starts' if hit else 'does not start'} with {_short(a.value)!r}")


def _check_regex(a: Assertion) -> None:
    try:
        re.compile(str(a.value))
    except re.error as exc:
        raise AssertionConfigError(f"{a.where}: invalid regex {str(a.value)!r}: {exc}") from None


@register("regex", "the output matches the regular expression (Python syntax)", check=_check_regex)
def regex(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    match = re.search(str(a.value), output)
    if match:
        return _ok(True, f"matched {_short(match.group(0), 60)!r}")
    return _ok(False, f"no match for /{_short(a.value, 60)}/")


# --- JSON ----------------------------------------------------------------------------------


def _check_schema(a: Assertion) -> None:
    schema = a.value
    if schema is None and a.base_type == "json-schema":
        raise AssertionConfigError(f"{a.where}: json-schema needs a schema as its value")
    if schema is None:
        return
    if not isinstance(schema, dict):
        raise AssertionConfigError(f"{a.where}: the JSON schema must be a mapping")
    from jsonschema import exceptions, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        path = "/".join(str(p) for p in exc.path) or "(root)"
        raise AssertionConfigError(
            f"{a.where}: invalid JSON schema at {path}: {exc.message}"
        ) from None


def _validate(data: Any, schema: dict[str, Any]) -> str | None:
    from jsonschema import validators

    validator = validators.validator_for(schema)(schema)
    error = next(iter(sorted(validator.iter_errors(data), key=lambda e: list(e.path))), None)
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {path}: {_short(error.message, 120)}"


def parse_json_output(output: str) -> Any:
    """The output parsed as JSON; a ```json fenced block is accepted. Raises ValueError."""
    text = output.strip()
    fence = re.fullmatch(r"```(?:json)?\s*\n(.*?)\n?```", text, re.DOTALL)
    if fence:
        text = fence.group(1)
    return json.loads(text)


def find_json(output: str) -> Any:
    """The first JSON object or array inside `output`. Raises ValueError when there is none."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", output):
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except ValueError:
            continue
        return value
    raise ValueError("no JSON object or array in the output")


def _json_grade(data: Any, a: Assertion, what: str) -> Grade:
    if isinstance(a.value, dict):
        problem = _validate(data, a.value)
        if problem:
            return _ok(False, f"{what} but does not match the schema {problem}")
        return _ok(True, f"{what} and matches the schema")
    return _ok(True, what)


@register(
    "is-json",
    "the output is valid JSON (optionally matching a JSON schema value)",
    needs_value=False,
    check=_check_schema,
)
def is_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    try:
        data = parse_json_output(output)
    except ValueError as exc:
        return _ok(False, f"not valid JSON: {_short(str(exc), 100)}")
    return _json_grade(data, a, "valid JSON")


@register(
    "contains-json",
    "the output contains a JSON object or array (optionally matching a schema)",
    needs_value=False,
    check=_check_schema,
)
def contains_json(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    try:
        data = find_json(output)
    except ValueError as exc:
        return _ok(False, str(exc))
    return _json_grade(data, a, "contains JSON")


@register(
    "json-schema",
    "the output is JSON that validates against the JSON schema value",
    check=_check_schema,
)
def json_schema(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    try:
        data = parse_json_output(output)
    except ValueError as exc:
        return _ok(False, f"not valid JSON: {_short(str(exc), 100)}")
    return _json_grade(data, a, "valid JSON")


_PATH_PART = re.compile(r"[^.\[\]]+|\[\d+\]")


def json_path_get(data: Any, path: str) -> Any:
    """`data` at a dotted path such as `items[0].price`. Raises KeyError when absent."""
    current = data
    for part in _PATH_PART.findall(path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(current, list) or index >= len(current):
                raise KeyError(path)
            current = current[index]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(path)
    return current


def _check_json_field(a: Assertion) -> None:
    path = a.options.get("path")
    if not isinstance(path, str) or not _PATH_PART.findall(path):
        raise AssertionConfigError(
            f"{a.where}: json-field needs a `path:` such as total or items[0].sku"
        )


def _same_value(got: Any, expected: Any) -> bool:
    if isinstance(got, int | float) and not isinstance(got, bool):
        try:
            return math.isclose(float(got), float(expected), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(got, str) and not isinstance(expected, str):
        return got.strip() == str(expected)
    if isinstance(got, str):
        return got.strip() == expected.strip()
    return bool(got == expected)


@register(
    "json-field",
    "the JSON output has `path:` equal to the value",
    check=_check_json_field,
    needs_value=False,
    uses_reference=True,
)
def json_field(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    path = str(a.options["path"])
    try:
        data = parse_json_output(output)
    except ValueError:
        try:
            data = find_json(output)
        except ValueError:
            return _ok(False, "not valid JSON")
    try:
        got = json_path_get(data, path)
    except KeyError:
        return _ok(False, f"no field {path}")
    same = _same_value(got, a.value)
    return _ok(
        same,
        f"{path} = {_short(json.dumps(got, ensure_ascii=False), 60)}"
        + ("" if same else f", expected {_short(json.dumps(a.value, ensure_ascii=False), 60)}"),
    )


# --- length, latency, cost ----------------------------------------------------------------

_UNITS = ("chars", "words", "tokens")


def measure(output: str, unit: str, model: str | None = None) -> int:
    if unit == "words":
        return len(output.split())
    if unit == "tokens":
        return count_tokens(output, model or "gpt-4o-mini")
    return len(output)


def _check_length(a: Assertion) -> None:
    unit = a.options.get("unit", "words" if a.base_type == "word-count" else "chars")
    if unit not in _UNITS:
        raise AssertionConfigError(
            f"{a.where}: unit must be one of {', '.join(_UNITS)}, not {unit!r}"
        )
    low, high = _bounds(a)
    if low is None and high is None:
        raise AssertionConfigError(f"{a.where}: {a.base_type} needs `min:` and/or `max:`")
    for bound in (low, high):
        if bound is not None and (not isinstance(bound, int | float) or isinstance(bound, bool)):
            raise AssertionConfigError(f"{a.where}: `min:` and `max:` must be numbers")


def _bounds(a: Assertion) -> tuple[Any, Any]:
    if isinstance(a.value, dict):
        return a.value.get("min"), a.value.get("max")
    if a.value is not None:  # promptfoo's word-count: a bare number is an exact count
        return a.value, a.value
    return a.options.get("min"), a.options.get("max")


def _length(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    unit = str(a.options.get("unit", "words" if a.base_type == "word-count" else "chars"))
    low, high = _bounds(a)
    n = measure(output, unit, ctx.model)
    passed = (low is None or n >= low) and (high is None or n <= high)
    span = f"{low if low is not None else 0}..{high if high is not None else '∞'}"
    return _ok(passed, f"{n} {unit} ({'within' if passed else 'outside'} {span})")


register(
    "length",
    "the output's length in `unit:` chars, words or tokens is within min/max",
    needs_value=False,
    check=_check_length,
)(_length)
register(
    "word-count",
    "the output's word count is within min/max (or equals the value)",
    needs_value=False,
    check=_check_length,
)(_length)


def _check_ceiling(a: Assertion) -> None:
    if a.threshold is None or a.threshold < 0:
        raise AssertionConfigError(
            f"{a.where}: {a.base_type} needs a `threshold:` (the ceiling) >= 0"
        )


@register(
    "latency",
    "the call took at most `threshold:` milliseconds",
    negatable=False,
    needs_value=False,
    check=_check_ceiling,
)
def latency(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    if ctx.latency_ms is None:
        return Grade(None, False, "latency unknown")
    passed = ctx.latency_ms <= float(a.threshold or 0)
    return _ok(passed, f"{ctx.latency_ms:.0f} ms (ceiling {a.threshold:g} ms)")


@register(
    "cost",
    "the call cost at most `threshold:` USD",
    negatable=False,
    needs_value=False,
    check=_check_ceiling,
)
def cost(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    if ctx.cost_usd is None:
        return Grade(None, False, "cost unknown (no price for this model)")
    passed = ctx.cost_usd <= float(a.threshold or 0)
    return _ok(passed, f"${ctx.cost_usd:.6f} (ceiling ${a.threshold:g})")


# --- similarity to the reference ----------------------------------------------------------


def _similarity(value: float, a: Assertion, default: float, what: str) -> Grade:
    threshold = a.threshold if a.threshold is not None else default
    value = max(0.0, min(1.0, value))
    passed = value >= threshold
    return Grade(value, passed, f"{what} {value:.3f} ({'>=' if passed else '<'} {threshold:g})")


@register(
    "levenshtein",
    "Levenshtein similarity ratio (0..1, rapidfuzz) to the value or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def levenshtein(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    from rapidfuzz.distance import Levenshtein

    ratio = Levenshtein.normalized_similarity(output.strip(), str(a.value).strip())
    return _similarity(ratio, a, 0.8, "Levenshtein ratio")


_TOKEN = re.compile(r"\w+", re.UNICODE)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    from rapidfuzz.distance import LCSseq

    cand = _TOKEN.findall(candidate.casefold())
    ref = _TOKEN.findall(reference.casefold())
    if not cand or not ref:
        return 1.0 if cand == ref else 0.0
    lcs = LCSseq.similarity(cand, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(cand), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


@register(
    "rouge-l",
    "ROUGE-L F1 (longest common word subsequence) to the value or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def rouge_l_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    return _similarity(rouge_l(output, str(a.value)), a, 0.5, "ROUGE-L")


def bleu(candidate: str, references: list[str]) -> float:
    """Sentence BLEU (sacrebleu, exponential smoothing) on a 0..1 scale."""
    import sacrebleu

    if not candidate.strip():
        return 0.0
    return float(sacrebleu.sentence_bleu(candidate, references).score) / 100.0


@register(
    "bleu",
    "sentence BLEU (sacrebleu, 0..1) to the value(s) or reference",
    needs_value=False,
    uses_reference=True,
    negatable=False,
)
def bleu_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    refs = [str(v) for v in a.value] if isinstance(a.value, list) else [str(a.value)]
    return _similarity(bleu(output, refs), a, 0.5, "BLEU")


# --- custom Python evaluators -------------------------------------------------------------

CUSTOM_NOTE = (
    "custom evaluators are Python files from the workspace's evaluators/ folder; "
    "scoring with them runs that code on this machine"
)
_custom_modules: dict[tuple[str, float], ModuleType] = {}


def custom_path(root: Path, value: Any) -> Path:
    """The file a `python` assertion names, which must lie in `root/evaluators/`."""
    spec = str(value or "").removeprefix("file://")
    folder = (root / "evaluators").resolve()
    name = spec.split("/")[-1] if spec.startswith("evaluators/") else spec
    if not name.endswith(".py"):
        name += ".py"
    path = (folder / name).resolve()
    if path.parent != folder:
        raise AssertionConfigError(f"python evaluator {spec!r} must be a file in evaluators/")
    return path


def _check_custom(a: Assertion) -> None:
    root = a.options.get("_root")
    if not a.value:
        raise AssertionConfigError(f"{a.where}: python needs `value:` naming a file in evaluators/")
    if root is None:
        return
    try:
        path = custom_path(Path(root), a.value)
    except AssertionConfigError as exc:
        raise AssertionConfigError(f"{a.where}: {exc}") from None
    if not path.is_file():
        raise AssertionConfigError(f"{a.where}: no custom evaluator file evaluators/{path.name}")


def load_custom(path: Path) -> Callable[..., Any]:
    """Import the evaluator file (runs its code) and return its `get_assert` or `evaluate`."""
    key = (str(path), path.stat().st_mtime)
    module = _custom_modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(f"promptyard_custom_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise AssertionConfigError(f"cannot load custom evaluator {path.name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _custom_modules[key] = module
    fn = getattr(module, "get_assert", None) or getattr(module, "evaluate", None)
    if not callable(fn):
        raise AssertionConfigError(
            f"evaluators/{path.name} defines neither get_assert(output, context) nor evaluate(output, context)"
        )
    return fn  # type: ignore[no-any-return]


def _custom_result(result: Any, a: Assertion) -> Grade:
    if isinstance(result, Grade):
        return result
    if isinstance(result, bool):
        return _ok(result, "custom check passed" if result else "custom check failed")
    if isinstance(result, int | float):
        threshold = a.threshold if a.threshold is not None else 0.5
        return Grade(float(result), float(result) >= threshold, f"custom score {float(result):g}")
    if isinstance(result, dict):
        value = result.get("score")
        passed = result.get("pass", result.get("passed"))
        if passed is None and isinstance(value, int | float):
            passed = value >= (a.threshold if a.threshold is not None else 0.5)
        if value is None and isinstance(passed, bool):
            value = 1.0 if passed else 0.0
        return Grade(
            float(value) if isinstance(value, int | float) else None,
            bool(passed),
            str(result.get("reason", "")),
        )
    raise TypeError(f"returned {type(result).__name__}; expected bool, number, dict or Grade")


@register(
    "python",
    "a custom Python evaluator from evaluators/ (runs workspace code)",
    check=_check_custom,
)
def python_eval(output: str, ctx: EvalContext, a: Assertion) -> Grade:
    root = a.options.get("_root")
    path = custom_path(Path(root or "."), a.value)
    fn = load_custom(path)
    context = {
        "vars": dict(ctx.inputs),
        "reference": ctx.reference,
        "model": ctx.model,
        "prompt": ctx.prompt_name,
        "latency_ms": ctx.latency_ms,
        "cost_usd": ctx.cost_usd,
        "config": {k: v for k, v in a.options.items() if not k.startswith("_")},
    }
    return _custom_result(fn(output, context), a)


# --- LLM judge (runs asynchronously; see `judge`) -----------------------------------------


def _check_rubric(a: Assertion) -> None:
    if not a.value and not a.options.get("prompt"):
        raise AssertionConfigError(
            f"{a.where}: llm-rubric needs a rubric as `value:` or a `prompt:`"
        )
    scale = a.options.get("scale", [1, 5])
    if (
        not isinstance(scale, list)
        or len(scale) != 2
        or not all(isinstance(x, int | float) for x in scale)
        or scale[0] >= scale[1]
    ):
        raise AssertionConfigError(
            f"{a.where}: llm-rubric `scale:` must be [low, high], e.g. [0, 1] (default [1, 5])"
        )


EVALUATORS["llm-rubric"] = Evaluator(
    "llm-rubric",
    None,
    "a judge model grades the output against a rubric, using a versioned .prompty (default judge_rubric)",
    negatable=False,
    needs_value=False,
    check=_check_rubric,
)


# --- running one assertion ----------------------------------------------------------------

_VAR = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.\w+|\[\d+\])*)\s*\}\}")


def _var_value(ref: str, ctx: EvalContext) -> Any:
    head = re.match(r"[A-Za-z_]\w*", ref)
    key = head.group(0) if head else ref
    rest = ref[len(key) :].lstrip(".")
    if key in ctx.inputs:
        base: Any = ctx.inputs[key]
    elif key in ("reference", "expected"):
        base = ctx.reference or ""
    else:
        raise AssertionConfigError(f"the row has no column {key!r}")
    if not rest:
        return base
    if isinstance(base, str):
        base = _structured(base)
    try:
        return json_path_get(base, rest)
    except KeyError:
        raise AssertionConfigError(f"the row's {key!r} has no field {rest!r}") from None


def _structured(text: str) -> Any:
    """JSON text as data; a Python literal (a reference stored with str()) as a fallback."""
    try:
        return parse_json_output(text)
    except ValueError:
        import ast

        try:
            return ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise AssertionConfigError(
                f"cannot read fields of {_short(text, 60)!r}: not JSON"
            ) from None


def fill_value(value: Any, ctx: EvalContext) -> Any:
    """`{{column}}` (or `{{column.field}}`) in a value replaced by the row's data.

    A value that is one placeholder keeps the data's type (`{{expected.total}}` -> 1250.0);
    `{{reference}}` is the row's reference.
    """
    if isinstance(value, str):
        whole = _VAR.fullmatch(value.strip())
        if whole:
            return _var_value(whole.group(1), ctx)

        def sub(m: re.Match[str]) -> str:
            got = _var_value(m.group(1), ctx)
            return got if isinstance(got, str) else json.dumps(got, ensure_ascii=False)

        return _VAR.sub(sub, value)
    if isinstance(value, list):
        return [fill_value(v, ctx) for v in value]
    return value


def lookup(kind: str) -> Evaluator:
    """The evaluator for an assertion type (with or without `not-`)."""
    base = kind[4:] if kind.startswith("not-") else kind
    evaluator = EVALUATORS.get(base)
    if evaluator is None or (base != kind and not evaluator.negatable):
        raise AssertionConfigError(f"unknown assertion type {kind!r}")
    return evaluator


def check_assertion(a: Assertion, config: bool = True) -> None:
    """Raise AssertionConfigError (naming `a.where`) when `a` cannot run.

    With `config=False` only the type is checked.
    """
    try:
        evaluator = lookup(a.type)
    except AssertionConfigError:
        known = ", ".join(sorted(EVALUATORS))
        raise AssertionConfigError(
            f"{a.where}: unknown assertion type {a.type!r} (known: {known}; prefix not- to negate)"
        ) from None
    if not config:
        return
    if evaluator.needs_value and a.value is None:
        raise AssertionConfigError(f"{a.where}: {a.type} needs a `value:`")
    if evaluator.check:
        evaluator.check(a)


def evaluate(output: str | None, ctx: EvalContext, a: Assertion) -> Grade:
    """Grade one output with one code assertion (not `llm-rubric`); never raises.

    A failed call (no output) fails every assertion. A `not-` assertion inverts the check.
    """
    evaluator = lookup(a.type)
    if evaluator.fn is None:
        raise AssertionConfigError(f"{a.type} is asynchronous; use judge()")
    if output is None:
        return Grade(0.0, False, f"no output: {ctx.error or 'the call failed'}")
    try:
        value = fill_value(a.value, ctx)
        if value is None and evaluator.uses_reference:
            if ctx.reference is None:
                return Grade(None, False, "no value and the row has no reference", error=True)
            value = ctx.reference
        grade = evaluator.fn(output, ctx, replace(a, value=value))
    except Exception as exc:  # an evaluator's bug or a custom file's error must not stop scoring
        return Grade(
            None,
            False,
            f"{a.where or a.type}: evaluator failed: {_short(str(exc) or type(exc).__name__, 160)}",
            error=True,
        )
    if a.negated:
        inverted = None if grade.value is None else 1.0 - grade.value
        return Grade(
            inverted,
            not grade.passed and not grade.error,
            f"not: {grade.reason}",
            error=grade.error,
        )
    return grade


def describe() -> list[dict[str, Any]]:
    """Every registered evaluator: name, description, whether `not-` applies."""
    return [
        {"type": e.name, "description": e.description, "negatable": e.negatable}
        for e in sorted(EVALUATORS.values(), key=lambda e: e.name)
    ]


__all__ = [
    "CUSTOM_NOTE",
    "EVALUATORS",
    "Assertion",
    "AssertionConfigError",
    "EvalContext",
    "Grade",
    "bleu",
    "check_assertion",
    "describe",
    "evaluate",
    "rouge_l",
]
