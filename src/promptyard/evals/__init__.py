"""Evaluators, LLM judges, suites, scoring, calibration and the CI gate.

The public face of the part: pages, the CLI and other code import from here.

- `evaluators/`: one module per family of assertions (promptfoo's names and meanings),
  the registry, and plugins from the `promptyard.evaluators` entry-point group
- `judges`: the `llm-rubric` assertion (a judge model, through the providers)
- `suites/`: `evals/NAME.yaml` files, parsed and checked
- `scoring/`: grading a run's cells with a suite, and reading stored scores
- `calibration`: how far a judge agrees with human ratings
- `gate/`: `promptyard eval`, working tree against baseline, and its reporters

The names are imported from their modules on first use (PEP 562): the checks a run
gets when it ends load no numpy (calibration) and no gate.
"""

from typing import TYPE_CHECKING

from promptyard.lazy_names import lazy_face

_HOMES = {
    **dict.fromkeys(["Calibration", "calibrate"], "promptyard.evals.calibration"),
    **dict.fromkeys(
        [
            "Assertion",
            "AssertionConfigError",
            "CUSTOM_NOTE",
            "EvalContext",
            "Evaluator",
            "Grade",
            "PLUGIN_GROUP",
            "check_assertion",
            "clear_custom_cache",
            "describe",
            "evaluate",
            "known_types",
            "reset_plugins",
        ],
        "promptyard.evals.evaluators",
    ),
    **dict.fromkeys(
        [
            "EXIT_CONFIG",
            "EXIT_FAIL",
            "EXIT_PASS",
            "GateConfigError",
            "GateResult",
            "junit_xml",
            "markdown",
            "run_gate",
            "run_gate_async",
            "table",
        ],
        "promptyard.evals.gate",
    ),
    **dict.fromkeys(
        ["ScoringJob", "cancel_scoring", "get_scoring_job", "scoring_job", "start_scoring"],
        "promptyard.evals.jobs",
    ),
    **dict.fromkeys(["JudgeVerdict", "judge", "parse_judge_answer"], "promptyard.evals.judges"),
    **dict.fromkeys(
        [
            "CellResult",
            "RunScores",
            "StoredSuiteResult",
            "VariantResult",
            "free_suites_for_run",
            "score_after_run",
            "score_run",
            "score_run_async",
            "stored_results",
            "suites_for_run",
        ],
        "promptyard.evals.scoring",
    ),
    **dict.fromkeys(
        ["Suite", "SuiteError", "list_suites", "load_suite", "parse_suite"],
        "promptyard.evals.suites",
    ),
}


if TYPE_CHECKING:  # what type checkers and editors see: the same names as above
    from promptyard.evals.calibration import Calibration, calibrate
    from promptyard.evals.evaluators import (
        CUSTOM_NOTE,
        PLUGIN_GROUP,
        Assertion,
        AssertionConfigError,
        EvalContext,
        Evaluator,
        Grade,
        check_assertion,
        clear_custom_cache,
        describe,
        evaluate,
        known_types,
        reset_plugins,
    )
    from promptyard.evals.gate import (
        EXIT_CONFIG,
        EXIT_FAIL,
        EXIT_PASS,
        GateConfigError,
        GateResult,
        junit_xml,
        markdown,
        run_gate,
        run_gate_async,
        table,
    )
    from promptyard.evals.jobs import (
        ScoringJob,
        cancel_scoring,
        get_scoring_job,
        scoring_job,
        start_scoring,
    )
    from promptyard.evals.judges import JudgeVerdict, judge, parse_judge_answer
    from promptyard.evals.scoring import (
        CellResult,
        RunScores,
        StoredSuiteResult,
        VariantResult,
        free_suites_for_run,
        score_after_run,
        score_run,
        score_run_async,
        stored_results,
        suites_for_run,
    )
    from promptyard.evals.suites import (
        Suite,
        SuiteError,
        list_suites,
        load_suite,
        parse_suite,
    )

__all__ = [
    "ScoringJob",
    "cancel_scoring",
    "get_scoring_job",
    "scoring_job",
    "start_scoring",
    "CUSTOM_NOTE",
    "EXIT_CONFIG",
    "EXIT_FAIL",
    "EXIT_PASS",
    "PLUGIN_GROUP",
    "Assertion",
    "AssertionConfigError",
    "Calibration",
    "CellResult",
    "EvalContext",
    "Evaluator",
    "GateConfigError",
    "GateResult",
    "Grade",
    "JudgeVerdict",
    "RunScores",
    "StoredSuiteResult",
    "Suite",
    "SuiteError",
    "VariantResult",
    "calibrate",
    "check_assertion",
    "clear_custom_cache",
    "describe",
    "evaluate",
    "judge",
    "junit_xml",
    "known_types",
    "list_suites",
    "load_suite",
    "markdown",
    "parse_judge_answer",
    "parse_suite",
    "reset_plugins",
    "run_gate",
    "run_gate_async",
    "score_after_run",
    "free_suites_for_run",
    "score_run",
    "score_run_async",
    "stored_results",
    "suites_for_run",
    "table",
]

__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__)
