"""Code evaluators: each on ordinary, unicode, empty, invalid-JSON and huge outputs."""

from __future__ import annotations

import json

import pytest

from promptyard.evals import (
    Assertion,
    AssertionConfigError,
    EvalContext,
    check_assertion,
    evaluate,
    parse_judge_answer,
)
from promptyard.evals.evaluators import EVALUATORS, bleu, fill_value, rouge_l

CTX = EvalContext(
    inputs={"name": "Zoë", "expected": {"total": 1250.0, "items": [{"sku": "A-1"}]}},
    reference="The café opens at 9 on Monday.",
    latency_ms=420.0,
    cost_usd=0.0021,
    model="sim-fast",
)
HUGE = ("lorem ipsum dolor sit amet " * 80_000).strip()  # about 2 MB


def run(
    kind: str, output: str | None, value: object = None, **options: object
) -> tuple[bool, float | None, str]:
    threshold = options.pop("threshold", None)
    a = Assertion(
        kind, value, threshold=threshold, options=dict(options), where="evals/t.yaml line 3"
    )  # type: ignore[arg-type]
    check_assertion(a)
    g = evaluate(output, CTX, a)
    return g.passed, g.value, g.reason


@pytest.mark.parametrize(
    ("kind", "output", "value", "passed"),
    [
        ("equals", "  Hello  ", "Hello", False),  # promptfoo compares exactly
        ("equals", "Hello", "Hello", True),
        ("equals", "Hello", "hello", False),
        ("equals", '{"a": 1}', {"a": 1}, True),
        ("equals", "", "", True),
        ("contains", "Grüße aus Köln 🌍", "Köln 🌍", True),
        ("contains", "", "x", False),
        ("icontains", "STRASSE", "strasse", True),
        ("icontains", "Hello ZOË", "{{name}}", True),
        ("contains-any", "a red fox", ["blue", "red"], True),
        ("contains-any", "a red fox", "blue, green", False),
        ("contains-all", "a red fox", ["red", "fox"], True),
        ("contains-all", "a red fox", ["red", "wolf"], False),
        ("icontains-any", "A RED FOX", ["red"], True),
        ("icontains-all", "A RED FOX", ["red", "fox"], True),
        ("starts-with", "\n  Dear Zoë,", "Dear", False),  # exact, as promptfoo
        ("starts-with", "Dear Zoë,", "Dear", True),
        ("contains-any", 'say "hi, there"', '"hi, there", bye', True),
        ("contains-any", "hi", '"hi, there", bye', False),
        ("regex", "born 1984", r"(?<year>\d{4})", True),
        ("starts-with", "", "Dear", False),
        ("regex", "Order #48213 shipped", r"#\d{5}\b", True),
        ("regex", "no digits", r"\d+", False),
        ("regex", "日本語のテキスト", r"テキスト$", True),
    ],
)
def test_text_checks(kind: str, output: str, value: object, passed: bool) -> None:
    got, score, reason = run(kind, output, value)
    assert got is passed, reason
    assert score == (1.0 if passed else 0.0)
    assert reason


@pytest.mark.parametrize(
    "kind", ["contains", "icontains", "regex", "starts-with", "equals", "contains-any"]
)
def test_not_forms_invert_the_check(kind: str) -> None:
    value = ["Zoë"] if kind == "contains-any" else "Zoë"
    yes, _, _ = run(kind, "Zoë", value)
    no, score, reason = run(f"not-{kind}", "Zoë", value)
    assert yes is True and no is False
    assert score == 0.0 and reason.startswith("not: ")


def test_text_checks_on_a_huge_output() -> None:
    assert run("contains", HUGE + " needle", "needle")[0] is True
    assert run("icontains-all", HUGE, ["LOREM", "amet"])[0] is True
    assert run("regex", HUGE, r"needle")[0] is False
    passed, _, reason = run("length", HUGE, max=1000)
    assert passed is False and str(len(HUGE)) in reason


def test_failed_call_fails_every_assertion_and_says_why() -> None:
    ctx = EvalContext(error="timeout: no answer in 60 s")
    g = evaluate(None, ctx, Assertion("not-contains", "x"))
    assert g.passed is False and "timeout" in g.reason


@pytest.mark.parametrize(
    ("output", "passed"),
    [
        ('{"total": 3}', True),
        ('```json\n{"total": 3}\n```', False),  # promptfoo: JSON.parse, no fences
        ("[1, 2, 3]", True),
        ('{"total": 3', False),  # truncated
        ("", False),
        ("{'total': 3}", False),  # a Python dict is not JSON
        ('{"ünï": "cødé ✓"}', True),
    ],
)
def test_is_json(output: str, passed: bool) -> None:
    assert run("is-json", output)[0] is passed


SCHEMA = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}


def test_json_schema_names_the_failing_field() -> None:
    assert run("json-schema", '{"total": 12.5}', SCHEMA)[0] is True
    passed, _, reason = run("json-schema", '{"total": "12.5"}', SCHEMA)
    assert passed is False and "total" in reason
    passed, _, reason = run("json-schema", "not json at all", SCHEMA)
    assert passed is False and "not valid JSON" in reason
    assert run("is-json", '{"x": 1}', SCHEMA)[0] is False  # is-json with a schema value


def test_contains_json_finds_json_inside_prose() -> None:
    out = 'Sure! Here it is: {"total": 7} — anything else?'
    assert run("contains-json", out)[0] is True
    assert run("contains-json", out, SCHEMA)[0] is True
    assert run("contains-json", "no braces { here")[0] is False
    assert run("is-json", out)[0] is False


def test_json_field_compares_typed_values_from_the_row() -> None:
    out = json.dumps({"total": 1250, "items": [{"sku": "A-1"}], "vendor": " Müller "})
    assert run("json-field", out, "{{expected.total}}", path="total")[0] is True
    assert run("json-field", out, "{{expected.items[0].sku}}", path="items[0].sku")[0] is True
    assert run("json-field", out, "Müller", path="vendor")[0] is True
    passed, _, reason = run("json-field", out, 99, path="total")
    assert passed is False and "expected 99" in reason
    passed, _, reason = run("json-field", out, 1, path="missing.field")
    assert passed is False and "no field missing.field" in reason
    assert run("json-field", "{broken", 1, path="total")[0] is False


def test_fill_value_keeps_type_of_a_single_placeholder() -> None:
    assert fill_value("{{expected.total}}", CTX) == 1250.0
    assert fill_value("Hi {{name}}!", CTX) == "Hi Zoë!"
    assert fill_value("{{reference}}", CTX) == CTX.reference
    with pytest.raises(AssertionConfigError, match="no column 'nope'"):
        fill_value("{{nope}}", CTX)


def test_unknown_column_in_a_value_is_an_error_grade() -> None:
    g = evaluate("text", CTX, Assertion("contains", "{{nope}}", where="evals/t.yaml line 9"))
    assert g.error and g.passed is False
    assert "evals/t.yaml line 9" in g.reason and "nope" in g.reason


@pytest.mark.parametrize(
    ("output", "options", "passed", "count"),
    [
        ("one two three", {"max": 3, "unit": "words"}, True, "3 words"),
        ("one two three four", {"max": 3, "unit": "words"}, False, "4 words"),
        ("", {"min": 1}, False, "0 chars"),
        ("héllo wörld", {"min": 11, "max": 11}, True, "11 chars"),
        ("hello world", {"max": 2, "unit": "tokens"}, True, "2 tokens"),
        ("😀" * 10, {"max": 10}, True, "10 chars"),
    ],
)
def test_length(output: str, options: dict[str, object], passed: bool, count: str) -> None:
    got, _, reason = run("length", output, **options)
    assert got is passed and count in reason


def test_word_count_accepts_promptfoo_forms() -> None:
    assert run("word-count", "a b c", 3)[0] is True
    assert run("word-count", "a b c", {"min": 4})[0] is False
    assert run("word-count", "a b c", max=5)[0] is True


def test_latency_and_cost_ceilings() -> None:
    assert run("latency", "x", threshold=500)[0] is True
    assert run("latency", "x", threshold=100)[0] is False
    assert run("cost", "x", threshold=0.01)[0] is True
    passed, _, reason = run("cost", "x", threshold=0.001)
    assert passed is False and "0.002100" in reason
    unknown = evaluate("x", EvalContext(), Assertion("cost", threshold=1.0))
    assert unknown.passed is False and unknown.error and "unknown" in unknown.reason
    # promptfoo's not- forms pass above the ceiling; an unknown latency stays an error
    assert run("not-latency", "x", threshold=100)[0] is True
    assert run("not-cost", "x", threshold=0.01)[0] is False
    lat = evaluate("x", EvalContext(), Assertion("not-latency", threshold=1.0))
    assert lat.passed is False and lat.error


def test_similarity_scores_are_0_to_1_and_use_the_reference() -> None:
    same = CTX.reference or ""
    for kind in ("similarity-ratio", "rouge-l", "rouge-n", "bleu"):
        passed, value, _ = run(kind, same)
        assert passed is True and value == pytest.approx(1.0), kind
        passed, value, _ = run(kind, "Совсем другой текст 完全不同", threshold=0.5)
        assert passed is False and value is not None and value < 0.3, kind
    # promptfoo's ROUGE and BLEU refuse an empty output: an error, not a zero
    for kind in ("rouge-l", "rouge-n", "bleu"):
        g = evaluate("", CTX, Assertion(kind))
        assert g.error and g.passed is False, kind
    near = "The café opens at 10 on Monday."
    _, ratio, _ = run("similarity-ratio", near)
    _, rl, _ = run("rouge-l", near)
    assert 0.9 < ratio < 1.0 and 0.8 < rl < 1.0
    assert run("rouge-l", near, threshold=0.99)[0] is False


def test_levenshtein_is_an_edit_distance_ceiling_as_in_promptfoo() -> None:
    # promptfoo: distance <= threshold (default 5); "threshold: 2" allows two edits
    assert run("levenshtein", "The café opens at 10 on Monday.")[0] is True  # 2 edits
    assert run("levenshtein", "The café opens at 10 on Monday.", threshold=1)[0] is False
    assert run("levenshtein", "The café opens at 10 on Monday.", threshold=2)[0] is True
    passed, value, reason = run("levenshtein", "completely different", "test")
    assert passed is False and value == 0.0 and "edit distance" in reason


def test_rouge_l_and_bleu_values() -> None:
    # js-rouge's ROUGE-L: LCS "the cat sat" = 3 tokens; recall 3/3, precision 3/7, beta 0.5
    p, r = 3 / 7, 1.0
    assert rouge_l("the cat sat", "the cat is on the mat sat") == pytest.approx(
        1.25 * r * p / (r + 0.25 * p)
    )
    assert bleu("the cat sat on the mat", ["the cat sat on the mat"]) == pytest.approx(1.0)
    assert 0 < bleu("the cat sat on a mat", ["the cat sat on the mat"]) < 1
    assert bleu(HUGE[:20000], ["lorem ipsum"]) < 0.1


def test_similarity_without_reference_is_an_error_grade() -> None:
    g = evaluate("text", EvalContext(), Assertion("rouge-l"))
    assert g.error and "no reference" in g.reason


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        (
            Assertion("regex", "([a-z", where="evals/x.yaml line 7"),
            "evals/x.yaml line 7: invalid regex",
        ),
        (
            Assertion("json-schema", {"type": "objekt"}, where="evals/x.yaml line 8"),
            "evals/x.yaml line 8: invalid JSON schema",
        ),
        (
            Assertion("contains-jsn", "x", where="evals/x.yaml line 9"),
            "evals/x.yaml line 9: unknown assertion type 'contains-jsn'",
        ),
        (
            Assertion("not-levenshtein", where="evals/x.yaml line 2", threshold=5),
            "unknown assertion type 'not-levenshtein'",
        ),
        (
            Assertion("contains-any", '"unterminated, x', where="evals/x.yaml line 6"),
            "evals/x.yaml line 6: unterminated quoted field",
        ),
        (Assertion("contains", where="evals/x.yaml line 4"), "contains needs a `value:`"),
        (Assertion("latency", where="evals/x.yaml line 5"), "needs a `threshold:`"),
        (
            Assertion("length", options={"unit": "pages", "max": 2}, where="l"),
            "unit must be one of",
        ),
        (Assertion("json-field", 1, where="l"), "needs a `path:`"),
        (Assertion("llm-rubric", "x", options={"scale": [5, 1]}, where="l"), "scale"),
    ],
)
def test_bad_assertions_are_refused_with_a_clear_message(
    assertion: Assertion, message: str
) -> None:
    with pytest.raises(AssertionConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        check_assertion(assertion)


def test_every_registered_evaluator_survives_unicode_empty_and_huge_output() -> None:
    values = {
        "length": None,
        "word-count": 2,
        "latency": None,
        "cost": None,
        "is-json": None,
        "contains-json": None,
        "json-schema": SCHEMA,
        "json-field": 1,
        "llm-rubric": None,
        "python": None,
    }
    for name in EVALUATORS:
        if name in ("llm-rubric", "python"):
            continue
        a = Assertion(
            name,
            values.get(name, "x"),
            threshold=1.0 if name in ("latency", "cost") else None,
            options={"path": "a", "max": 5},
        )
        check_assertion(a)
        for output in ("", "ünïcødé ✓ 🌍 日本", HUGE[:200_000], "{not json"):
            g = evaluate(output, CTX, a)
            assert isinstance(g.passed, bool) and g.reason, (name, output[:10])
            assert g.value is None or 0.0 <= g.value <= 1.0, (name, g.value)


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ('{"reason": "Greets Dana by name.", "score": 4}', 0.75),
        ('```json\n{"score": 5, "reasoning": "ok"}\n```', 1.0),
        ('Here is my grade: {"score": "2", "reason": "vague"}', 0.25),
        ('{"pass": false, "reason": "rude"}', 0.0),
        ("Reasoning: fine.\nScore: 4/5", 0.8),
        ("score = 3", 0.5),
    ],
)
def test_judge_answers_are_read_on_the_1_to_5_scale(answer: str, score: float) -> None:
    assert parse_judge_answer(answer).score == pytest.approx(score)


def test_judge_scale_maps_to_0_1() -> None:
    assert parse_judge_answer('{"score": 0.8}', (0, 1)).score == pytest.approx(0.8)
    with pytest.raises(ValueError, match="outside 1..5"):
        parse_judge_answer('{"score": 9}')
    with pytest.raises(ValueError, match="outside 1..5"):
        parse_judge_answer('{"score": 0.8}')  # a 0..1 answer to a 1-5 question is refused


@pytest.mark.parametrize("answer", ["", "I think it is quite good!", '{"verdict": "good"}', None])
def test_unparseable_judge_answer_raises_with_a_quote(answer: str | None) -> None:
    with pytest.raises(ValueError, match="no score"):
        parse_judge_answer(answer)
