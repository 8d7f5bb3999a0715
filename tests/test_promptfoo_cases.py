"""promptfoo's own assertion test cases, run through Promptyard's evaluators.

Each group below is ported from one test file of the promptfoo repository
(github.com/promptfoo/promptfoo, `test/assertions/...`): the assertion, the output, and
the verdict and score promptfoo's test expects. `ERROR` marks a case where promptfoo
throws (a bad value, a missing latency): Promptyard refuses the assertion when the suite
is read, or grades it as an error (never as a plain pass or fail).

JavaScript string literals are written as the strings they denote (`'a\\\\b'` in a
promptfoo test is `r"a\\b"` here).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from promptyard.evals import Assertion, AssertionConfigError, EvalContext, check_assertion, evaluate

ERROR = "error"
INF = math.inf

# (type, value, output, extras, expected pass (True/False/ERROR/None = not asserted),
#  expected score: a number, a (low, high) open range, or None = not asserted)
Case = tuple[str, Any, str, dict[str, Any], Any, Any]

# test/assertions/levenshtein.test.ts
LEVENSHTEIN: list[Case] = [
    ("levenshtein", "test", "test", {}, True, 1),
    ("levenshtein", "test", "tast", {}, True, 1),  # distance 1 <= default 5
    ("levenshtein", "test", "tist", {"threshold": 2}, True, 1),
    ("levenshtein", "test", "completely different", {}, False, 0),
    ("levenshtein", "test", "tast", {"threshold": 0}, False, 0),
    ("levenshtein", 123, "test", {}, ERROR, None),  # value must be a string
    ("levenshtein", "", "", {}, True, 1),
    ("levenshtein", "test!@#$", "test!@#$", {}, True, 1),
]

# test/assertions/contains.test.ts
CONTAINS: list[Case] = [
    ("contains", "world", "hello world", {}, True, 1),
    ("contains", "universe", "hello world", {}, False, 0),
    ("not-contains", "universe", "hello world", {}, True, 1),
    ("contains", None, "hello world", {}, ERROR, None),
    ("icontains", "WORLD", "hello world", {}, True, 1),
    ("icontains", "WoRlD", "Hello WORLD", {}, True, 1),
    ("contains", 0, "There are 0 errors", {}, True, 1),
    ("contains", 0, "no digits here", {}, False, 0),
    ("icontains", 0, "There are 0 errors", {}, True, 1),
    ("icontains", 0, "no digits here", {}, False, 0),
    ("contains", math.nan, "NaN", {}, ERROR, None),
    ("icontains", math.nan, "NaN", {}, ERROR, None),
    ("contains", INF, "Infinity", {}, True, 1),
    ("contains", -INF, "-Infinity", {}, True, 1),
    ("icontains", INF, "Infinity", {}, True, 1),
    ("icontains", -INF, "-Infinity", {}, True, 1),
    ("contains-any", ["world", "universe"], "hello world", {}, True, 1),
    ("contains-any", "world,universe", "hello world", {}, True, 1),
    ("contains-any", '"hello, world",universe', "hello, world", {}, True, 1),
    (
        "contains-any",
        '"hello, dear world", "goodbye, universe", simple',
        "hello, dear world is here",
        {},
        True,
        1,
    ),
    ("contains-any", '"",', "", {}, True, 1),
    ("contains-any", '"hello, world"\t,foo', "zzz", {}, False, 0),
    ("contains-any", '"hello, world"\t,\t"foo"', "foo", {}, True, 1),
    ("contains-any", '"a""b",c', 'a"b', {}, True, 1),
    ("contains-any", '"a""b",c', "b", {}, False, 0),
    ("contains-any", r'"hello\"world,test", "another,test"', 'hello"world,test', {}, True, 1),
    ("contains-any", '""', "test", {}, True, 1),
    ("contains-any", '"test"', "test", {}, True, 1),
    ("contains-any", r'"test\test"', r"test\test", {}, True, 1),
    ("contains-any", r'"test\\test"', r"test\test", {}, True, 1),
    ("contains-any", r'"hello\"world,test", "another,test"', "another,test", {}, True, 1),
    (
        "contains-any",
        r'"hello\"world,test", "another,test"',
        "something completely different",
        {},
        False,
        0,
    ),
    ("contains-any", '"test', "test", {}, ERROR, None),  # unterminated quote
    ("contains-any", '"hello"world', "hello world", {}, ERROR, None),
    ("contains-any", '"hello" world', "hello world", {}, ERROR, None),
    ("icontains-any", r'"hello\"world,test", "another,test"', "ANOTHER,TEST", {}, True, 1),
    ("icontains-any", '"hello, world",universe', "HELLO, WORLD", {}, True, 1),
    ("icontains-any", ["WORLD", "UNIVERSE"], "hello world", {}, True, 1),
    ("icontains-any", "WORLD,UNIVERSE", "hello world", {}, True, 1),
    ("icontains-any", "HELLO,  WORLD  ,  UNIVERSE", "hello", {}, True, 1),
    ("icontains-any", ",WORLD,,", "", {}, False, 0),
    ("icontains-any", '"",WORLD', "", {}, True, 1),
    ("icontains-any", "  HELLO  ", "hello", {}, True, 1),
    ("icontains-any", "HELLO  ,  WORLD", "hello", {}, True, 1),
    ("icontains-any", "  HELLO  ,  WORLD  ", "hello", {}, True, 1),
    ("icontains-any", "  HELLO  ,  ,  WORLD  ", "hello", {}, True, 1),
    ("icontains-any", "HELLO,,,,WORLD", "hello", {}, True, 1),
    ("icontains-any", "  ,  ,  ", "", {}, False, 0),
    ("contains-all", '"hello, world","foo"', "hello, world and foo", {}, True, 1),
    ("contains-all", '"hello, world","bar"', "hello, world and foo", {}, False, 0),
    ("contains-all", "hello", "hello world", {}, True, 1),
    (
        "contains-all",
        r'"say \"hello\"", "another,phrase"',
        'say "hello" and another,phrase here',
        {},
        True,
        1,
    ),
    ("contains-all", r'"say \"hello\"", "missing,value"', 'say "hello" only', {}, False, 0),
    ("contains-all", ["hello", "world"], "hello world", {}, True, 1),
    ("contains-all", ["hello", "world", "universe"], "hello world", {}, False, 0),
    (
        "icontains-all",
        r'"say \"hello\"", "another,phrase"',
        'SAY "HELLO" AND ANOTHER,PHRASE HERE',
        {},
        True,
        1,
    ),
    ("icontains-all", '"Hello, World","Foo"', "HELLO, WORLD AND FOO", {}, True, 1),
    ("icontains-all", '""', "hello", {}, True, 1),
    ("icontains-all", ["HELLO", "WORLD"], "hello world", {}, True, 1),
    ("icontains-all", ["HELLO", "WORLD", "UNIVERSE"], "hello world", {}, False, 0),
    ("icontains-all", ["HeLLo", "WoRLD"], "HELLO world", {}, True, 1),
]

# test/assertions/contains-multi.test.ts
CONTAINS_MULTI: list[Case] = [
    (
        "contains-any",
        ["option1", "option2", "option3"],
        "This output contains option1",
        {},
        True,
        1,
    ),
    (
        "contains-any",
        ["option1", "option2", "option3"],
        "This output does not contain any option",
        {},
        False,
        0,
    ),
    (
        "contains-all",
        ["option1", "option2", "option3"],
        "This output contains option1, option2, and option3",
        {},
        True,
        1,
    ),
    (
        "contains-all",
        ["option1", "option2", "option3"],
        "This output contains only option1 and option2",
        {},
        False,
        0,
    ),
]

# test/assertions/icontains.test.ts
ICONTAINS: list[Case] = [
    ("icontains", "expected output", "EXPECTED OUTPUT", {}, True, 1),
    ("icontains", "expected output", "Different output", {}, False, 0),
    ("not-icontains", "unexpected output", "Expected output", {}, True, 1),
    ("not-icontains", "unexpected output", "UNEXPECTED OUTPUT", {}, False, 0),
    (
        "icontains-any",
        ["option1", "option2", "option3"],
        "This output contains OPTION1",
        {},
        True,
        1,
    ),
    (
        "icontains-any",
        ["option1", "option2", "option3"],
        "This output does not contain any option",
        {},
        False,
        0,
    ),
    (
        "icontains-all",
        ["option1", "option2", "option3"],
        "This output contains OPTION1, option2, and opTiOn3",
        {},
        True,
        1,
    ),
    (
        "icontains-all",
        ["option1", "option2", "option3"],
        "This output contains only OPTION1 and option2",
        {},
        False,
        0,
    ),
]

# test/assertions/equals.test.ts and test/assertions/not-equals.test.ts
EQUALS: list[Case] = [
    ("equals", {"z": -0, "a": "expected"}, '{"z":0,"a":"actual"}', {}, False, 0),
    ("equals", {"a": 1}, '{"a":1}', {}, True, 1),
    ("not-equals", {"a": 1}, '{"a":1}', {}, False, 0),
    ("equals", {"a": 1}, "not JSON", {}, False, 0),
    ("equals", {"a": "x" * 20_001}, "{}", {}, False, 0),
    ("not-equals", {"foo": "bar"}, "hello world", {}, True, 1),
    ("equals", {"foo": "bar"}, "hello world", {}, False, 0),
    ("equals", {"foo": "bar"}, '{"foo":"bar"}', {}, True, 1),
    ("equals", {"foo": "bar"}, '{"foo":"baz"}', {}, False, 0),
    ("equals", "hello world", "hello world", {}, True, 1),
    ("equals", "goodbye world", "hello world", {}, False, 0),
    ("not-equals", "hello world", "hello world", {}, False, 0),
    ("not-equals", "goodbye world", "hello world", {}, True, 1),
    ("not-equals", "Unexpected output", "Expected output", {}, True, 1),
    ("not-equals", "Unexpected output", "Unexpected output", {}, False, 0),
]

_LATLON = {
    "required": ["latitude", "longitude"],
    "type": "object",
    "properties": {
        "latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "longitude": {"type": "number", "minimum": -180, "maximum": 180},
    },
}
_LATLON_YAML = """
      required:
        - latitude
        - longitude
      type: object
      properties:
        latitude:
          type: number
          minimum: -90
          maximum: 90
        longitude:
          type: number
          minimum: -180
          maximum: 180
    """
_DATE = {
    "type": "object",
    "properties": {"date": {"type": "string", "format": "date"}},
    "required": ["date"],
}
_FILE = {"schema_file": _LATLON}  # written to the workspace as schema.json

# test/assertions/is-json.test.ts
IS_JSON: list[Case] = [
    ("is-json", None, '{"key":"value"}', {}, True, 1),
    ("is-json", None, "Not valid JSON", {}, False, 0),
    ("is-json", _LATLON, '{"latitude": 80.123, "longitude": -1}', {}, True, 1),
    ("is-json", _LATLON, '{"latitude": "high", "longitude": [-1]}', {}, False, 0),
    ("is-json", _LATLON_YAML, '{"latitude": 80.123, "longitude": -1}', {}, True, 1),
    ("is-json", _LATLON_YAML, '{"latitude": "high", "longitude": [-1]}', {}, False, 0),
    ("is-json", _DATE, '{"date": "2021-08-29"}', {}, True, 1),
    ("is-json", _DATE, '{"date": "not a date"}', {}, False, 0),
    ("is-json", "file://schema.json", '{"latitude": 80.123, "longitude": -1}', _FILE, True, 1),
    ("is-json", "file://schema.json", '{"latitude": "high", "longitude": [-1]}', _FILE, False, 0),
]

_PROSE = (
    'this is some other stuff \n\n {"key": "value", "key2": {"key3": "value2", '
    '"key4": ["value3", "value4"]}} \n\n blah blah'
)
_TWO = (
    'this is some other stuff \n\n {"key": "value", "key2": {"key3": "value2", "key4": '
    '["value3", "value4"]}} another {"key": "value", "key2": {"key3": "value2", "key4": '
    '["value3", "value4"]}}\n\n blah blah'
)
_FENCED = 'here is the answer\n\n```{"latitude": 80.123, "longitude": -1}```'
_MEDIUM = 'here is the answer\n\n```{"latitude": "medium", "longitude": -1}```'

# test/assertions/contains-json.test.ts
CONTAINS_JSON: list[Case] = [
    ("contains-json", None, _PROSE, {}, True, 1),
    ("contains-json", None, _TWO, {}, True, 1),
    ("contains-json", None, "Not valid JSON", {}, False, 0),
    ("contains-json", _LATLON, _FENCED, {}, True, 1),
    ("contains-json", _LATLON_YAML, _FENCED, {}, True, 1),
    ("contains-json", "file://schema.json", _FENCED, _FILE, True, 1),
    ("contains-json", "file://schema.json", _MEDIUM, _FILE, False, 0),
    ("contains-json", _LATLON, _MEDIUM, {}, False, 0),
]

_SSN = r"\d{3}-\d{2}-\d{4}"
# test/assertions/regex.test.ts
REGEX: list[Case] = [
    ("regex", _SSN, "This output contains 123-45-6789", {}, True, 1),
    ("regex", _SSN, "This output does not contain the pattern", {}, False, 0),
    ("not-regex", _SSN, "This output does not contain the pattern", {}, True, 1),
    ("not-regex", _SSN, "This output contains 123-45-6789", {}, False, 0),
]

# test/assertions/latency.test.ts, cost.test.ts, cost-latency-threshold-edge-cases.test.ts
LATENCY_COST: list[Case] = [
    ("latency", None, "Expected output", {"threshold": 100, "latency_ms": 50}, True, 1),
    ("latency", None, "Expected output", {"threshold": 100, "latency_ms": 1000}, False, 0),
    ("latency", None, "Expected output", {"threshold": 100}, ERROR, None),  # cached: no latency
    ("latency", None, "Expected output", {"threshold": 100, "latency_ms": 0}, True, 1),
    ("latency", None, "Expected output", {"latency_ms": 50}, ERROR, None),  # no threshold
    ("latency", None, "Expected output", {"threshold": 100, "latency_ms": 100}, True, 1),
    ("cost", None, "x", {"threshold": 0.01, "cost_usd": 0.005}, True, 1),
    ("cost", None, "x", {"threshold": 0.01, "cost_usd": 0.02}, False, 0),
    ("cost", None, "x", {"cost_usd": 0.005}, ERROR, None),  # no threshold
    ("cost", None, "x", {"threshold": 0.01}, ERROR, None),  # the provider returned no cost
    ("not-cost", None, "x", {"threshold": 0.01, "cost_usd": 0.005}, False, 0),
    ("not-cost", None, "x", {"threshold": 0.01, "cost_usd": 0.02}, True, 1),
    ("not-cost", None, "x", {"threshold": 0.01, "cost_usd": 0.01}, False, 0),
    ("cost", None, "test", {"threshold": 0, "cost_usd": 0}, True, 1),
    ("cost", None, "test", {"threshold": 0, "cost_usd": 0.01}, False, 0),
    ("latency", None, "test", {"threshold": 0, "latency_ms": 0}, True, 1),
    ("latency", None, "test", {"threshold": 0, "latency_ms": 1}, False, 0),
]

_MAT = "The cat sat on the mat."
# test/assertions/bleu.test.ts (calculateBleuScore's ranges, then handleBleuScore's verdicts)
BLEU: list[Case] = [
    ("bleu", [_MAT], _MAT, {}, True, (0.999, 1.0 + 1e-9)),
    ("bleu", [_MAT], "Dogs run in the park.", {}, False, (0.0, 0.001)),
    ("bleu", [_MAT], "The dog sat on the mat.", {}, None, (0.5, 1.0)),
    ("bleu", ["cat"], "cat", {}, None, (0.0, 1.0 + 1e-9)),
    ("bleu", [_MAT], "The cat sat.", {}, None, (0.0, 1.0)),
    (
        "bleu",
        [_MAT, "There is a cat on the mat.", "A cat is sitting on the mat."],
        "The cat was sitting on the mat.",
        {},
        None,
        (0.25, 1.0),
    ),
    (
        "bleu",
        ["The cat sat on mat.", "Cat mat.", "A cat is sitting on a mat."],
        "The cat sat on mat.",
        {},
        True,
        (0.999, 1.0 + 1e-9),
    ),
    ("bleu", [], "test", {}, ERROR, None),  # no references
    (
        "bleu",
        ["The small cat sat.", "A cat was sitting.", "The cat is on the mat."],
        "The small cat sat.",
        {},
        True,
        (0.999, 1.0 + 1e-9),
    ),
    ("bleu", _MAT, _MAT, {}, True, None),
    (
        "bleu",
        ["The cat sat on mat.", "The cat is sitting on mat."],
        "The cat sat on mat.",
        {},
        True,
        None,
    ),
    ("bleu", _MAT, "The dog sat on the mat.", {"threshold": 0.8}, False, None),
    ("not-bleu", _MAT, "The dog ran in the park.", {"threshold": 0.8}, True, None),
    ("bleu", _MAT, "The dog ran in the park.", {}, False, None),
]

_EXPECTED = "This is the expected output."
# test/assertions/rouge-n.test.ts, the casing test of test/assertions/rouge*.test.ts, and
# test/assertions/rouge.test.ts (whose mocked scores are reproduced with real texts)
ROUGE: list[Case] = [
    ("rouge-n", _EXPECTED, _EXPECTED, {"threshold": 0.75}, True, 1.0),
    ("rouge-n", _EXPECTED, "some different output", {"threshold": 0.75}, False, 1 / 6),
    (
        "rouge-n",
        _EXPECTED,
        "This is a different output but has some expected words.",
        {"threshold": 0.75},
        True,
        (0.0, 1.0 + 1e-9),
    ),
    ("rouge-n", "the cat sat", "The CAT Sat", {}, True, 1.0),
    # rouge.test.ts mocks js-rouge's score (0.8, 0.7, 0.6); the same scores from real texts:
    ("rouge-n", "a b c d e", "a b c d", {}, True, 0.8),
    ("rouge-n", "a b c d e f g h i j", "a b c d e f g", {}, False, 0.7),
    ("rouge-n", "a b c d e f g h i j", "a b c d e f", {"threshold": 0.5}, True, 0.6),
    ("not-rouge-n", "a b c d e", "a b c d", {}, False, 0.2),  # inverse: score 1 - 0.8
]

_SENT = "This is a test sentence"
_THREE = "Three word text"
# test/assertions/wordCount.test.ts
WORD_COUNT: list[Case] = [
    ("word-count", 5, _SENT, {}, True, 1),
    ("word-count", "3", "Hello world test", {}, True, 1),
    ("word-count", 10, "Short text", {}, False, 0),
    ("word-count", 4, "Word   with    multiple     spaces", {}, True, 1),
    ("word-count", 1, "Hello", {}, True, 1),
    ("word-count", 0, "", {}, True, 1),
    ("word-count", {"min": 3, "max": 7}, _SENT, {}, True, 1),
    ("word-count", {"min": 5, "max": 10}, _SENT, {}, True, 1),
    ("word-count", {"min": 1, "max": 5}, _SENT, {}, True, 1),
    ("word-count", {"min": 10, "max": 20}, "Too few words", {}, False, 0),
    ("word-count", {"min": 1, "max": 3}, "This has way too many words in it", {}, False, 0),
    ("word-count", {"min": 3}, _SENT, {}, True, 1),
    ("word-count", {"min": 10}, "Too short", {}, False, 0),
    ("word-count", {"max": 10}, "Short text here", {}, True, 1),
    ("word-count", {"max": 3}, "This text has too many words", {}, False, 0),
    ("not-word-count", 10, "Short text", {}, True, 1),
    ("not-word-count", 2, "Two words", {}, False, 0),
    ("not-word-count", {"min": 1, "max": 5}, _THREE, {}, False, 0),
    ("not-word-count", {"min": 2}, _THREE, {}, False, 0),
    ("not-word-count", {"max": 5}, _THREE, {}, False, 0),
    ("word-count", 7, "First line\nSecond line here\nThird line", {}, True, 1),
    ("word-count", 4, "Word\tWith\tTabs\tHere", {}, True, 1),
    ("word-count", None, "Some text", {}, ERROR, None),
    ("word-count", {}, "Some text", {}, ERROR, None),
    ("word-count", "invalid", "Some text", {}, ERROR, None),
    ("word-count", {"min": 10, "max": 5}, "Some text", {}, ERROR, None),
]

GROUPS = {
    "levenshtein.test.ts": LEVENSHTEIN,
    "contains.test.ts": CONTAINS,
    "contains-multi.test.ts": CONTAINS_MULTI,
    "icontains.test.ts": ICONTAINS,
    "equals.test.ts": EQUALS,
    "is-json.test.ts": IS_JSON,
    "contains-json.test.ts": CONTAINS_JSON,
    "regex.test.ts": REGEX,
    "latency/cost tests": LATENCY_COST,
    "bleu.test.ts": BLEU,
    "rouge-n.test.ts": ROUGE,
    "wordCount.test.ts": WORD_COUNT,
}
CASES = [
    pytest.param(*case, id=f"{source}:{i}:{case[0]}")
    for source, cases in GROUPS.items()
    for i, case in enumerate(cases)
]


def test_a_good_sample_of_promptfoo_cases_is_ported() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize(("kind", "value", "output", "extras", "passed", "score"), CASES)
def test_promptfoo_case(
    kind: str,
    value: Any,
    output: str,
    extras: dict[str, Any],
    passed: Any,
    score: Any,
    tmp_path: Path,
) -> None:
    options: dict[str, Any] = {}
    if "schema_file" in extras:
        (tmp_path / "schema.json").write_text(json.dumps(extras["schema_file"]), "utf-8")
        options["_root"] = str(tmp_path)
    a = Assertion(
        kind, value, threshold=extras.get("threshold"), options=options, where="case line 1"
    )
    ctx = EvalContext(latency_ms=extras.get("latency_ms"), cost_usd=extras.get("cost_usd"))
    try:
        check_assertion(a)
    except AssertionConfigError as exc:
        assert passed == ERROR, f"refused: {exc}"
        return
    grade = evaluate(output, ctx, a)
    if passed == ERROR:
        assert grade.error and grade.passed is False, grade
        return
    assert not grade.error, grade.reason
    if passed is not None:
        assert grade.passed is passed, grade.reason
    if isinstance(score, tuple):
        low, high = score
        assert grade.value is not None and low < grade.value < high, grade
    elif score is not None:
        assert grade.value == pytest.approx(score), grade


@pytest.mark.parametrize(
    ("option", "output", "value", "passed"),
    [
        # src/assertions/normalize.ts: true is NFC (composition only); NFKC must be named
        (None, "cafe\u0301", "café", False),
        (True, "cafe\u0301", "café", True),
        ("NFC", "x²", "x2", False),
        ("NFKC", "x²", "x2", True),
    ],
)
def test_equals_normalize_unicode(option: Any, output: str, value: str, passed: bool) -> None:
    options = {} if option is None else {"normalizeUnicode": option}
    a = Assertion("equals", value, options=options, where="case line 1")
    check_assertion(a)
    assert evaluate(output, EvalContext(), a).passed is passed
