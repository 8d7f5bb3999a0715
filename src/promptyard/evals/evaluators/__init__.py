"""Automatic evaluators: small pure functions that score one model output.

Each evaluator is `fn(output, context, assertion) -> Grade(value, passed, reason)`, where
`context` carries the dataset row (inputs, reference) and the call's latency, cost and
tokens, and `assertion` is one entry of a suite's `assert:` list (its `value`, `threshold`
and options). Names follow promptfoo's assertion types where one exists (`contains`,
`icontains-any`, `is-json`, `regex`, `levenshtein`, `llm-rubric`, ...), and every
pass/fail check has a `not-` form. One module per family, as promptfoo keeps one file per
assertion family:

- `text`: equals, contains, icontains, contains-any/-all, icontains-any/-all, starts-with, regex
- `json`: is-json, contains-json, json-schema, json-field
- `length`: length, word-count
- `performance`: latency, cost
- `similarity`: levenshtein, rouge-n, rouge-l, bleu, similarity-ratio (Promptyard's own)
- `custom`: python (a file from the workspace's `evaluators/` folder; runs its code)
- `rubric`: llm-rubric (the judge itself is `promptyard.evals.judges`)
- `rows`: row-assertions (each row's own assertions: an imported promptfoo test's list)

`registry` finds an evaluator by type, including those that installed packages add
through the `promptyard.evaluators` entry-point group.
"""

from promptyard.evals.evaluators.base import (
    EVALUATORS,
    Assertion,
    AssertionConfigError,
    EvalContext,
    Evaluator,
    EvaluatorFn,
    Grade,
    register,
    shorten,
    verdict,
)
from promptyard.evals.evaluators.custom import CUSTOM_NOTE, clear_custom_cache
from promptyard.evals.evaluators.json import (
    find_json,
    find_json_objects,
    json_path_get,
    load_schema,
    parse_json_output,
    strict_json,
)
from promptyard.evals.evaluators.length import measure
from promptyard.evals.evaluators.placeholders import fill_value
from promptyard.evals.evaluators.registry import (
    PLUGIN_GROUP,
    check_assertion,
    describe,
    evaluate,
    known_types,
    lookup,
    plugin_evaluators,
    reset_plugins,
)
from promptyard.evals.evaluators.rows import ROW_ASSERT_COLUMN, row_assertions
from promptyard.evals.evaluators.rubric import RUBRIC_TYPE
from promptyard.evals.evaluators.similarity import bleu, rouge_l, rouge_n
from promptyard.evals.evaluators.text import js_regex

__all__ = [
    "CUSTOM_NOTE",
    "EVALUATORS",
    "PLUGIN_GROUP",
    "ROW_ASSERT_COLUMN",
    "RUBRIC_TYPE",
    "Assertion",
    "AssertionConfigError",
    "EvalContext",
    "Evaluator",
    "EvaluatorFn",
    "Grade",
    "bleu",
    "check_assertion",
    "clear_custom_cache",
    "describe",
    "evaluate",
    "fill_value",
    "find_json",
    "find_json_objects",
    "js_regex",
    "json_path_get",
    "known_types",
    "load_schema",
    "lookup",
    "measure",
    "parse_json_output",
    "plugin_evaluators",
    "register",
    "reset_plugins",
    "rouge_l",
    "row_assertions",
    "rouge_n",
    "shorten",
    "strict_json",
    "verdict",
]
