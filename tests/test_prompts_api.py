"""The Python API an application uses: get_prompt(...).render(...)."""

from __future__ import annotations

import pytest

import promptyard
from promptyard.errors import NotFoundError
from promptyard.workspace import Workspace


def test_get_prompt_by_label_renders_messages(workspace: Workspace) -> None:
    promptyard.label_prompt("summarize", "v1", "production")
    prompt = promptyard.get_prompt("summarize", label="production")
    assert prompt.version.tag == "v1"
    messages = prompt.render(text="The order arrived late.")
    assert messages[0] == {"role": "system", "content": "You summarize text."}
    assert prompt.model == "sim-fast"
    assert prompt.parameters["temperature"] == 0.3


def test_get_prompt_without_ref_is_the_file_as_it_is(workspace: Workspace) -> None:
    path = workspace.root / "prompts" / "summarize.prompty"
    path.write_text(path.read_text().replace("precise editor", "careful editor"))
    prompt = promptyard.get_prompt("summarize")
    assert prompt.version is None  # unsaved edit
    assert "careful editor" in prompt.render(text="x")[0]["content"]


def test_deleted_prompt_is_reported_and_old_versions_still_load(workspace: Workspace) -> None:
    promptyard.delete_prompt("summarize")
    with pytest.raises(NotFoundError, match="deleted"):
        promptyard.get_prompt("summarize")
    assert promptyard.get_prompt("summarize", "v2").version.tag == "v2"


# What the first release exported; every name stays (the face grows, it never shrinks).
FIRST_RELEASE = {
    "ConflictError",
    "MissingVariablesError",
    "NotFoundError",
    "PromptTemplate",
    "PromptyardError",
    "Store",
    "TemplateError",
    "Version",
    "Workspace",
    "__version__",
    "current_workspace",
    "delete_prompt",
    "diff_prompt",
    "get_prompt",
    "label_prompt",
    "list_prompts",
    "prompt_history",
    "render_prompt",
    "restore_prompt",
    "save_prompt",
}


def test_public_api_is_pinned() -> None:
    assert set(promptyard.__all__) == FIRST_RELEASE | {
        # per area (docs/architecture.md, "The public face")
        *("datasets", "evals", "models", "prompts", "ratings", "reading", "runs"),
        *("stats", "storage", "versioning", "parse_prompt", "init_workspace"),
        *("Dataset", "DatasetError", "SliceSpec", "import_dataset", "list_datasets"),
        "load_dataset",
        *("Completion", "ModelCall", "ModelEndpoint", "complete", "estimate_cost"),
        *("load_catalog", "resolve_model", "start_simulator", "ResolvedModel", "BundleError"),
        *("RunPlan", "RunSummary", "create_run", "execute_run", "iter_results", "list_runs"),
        *("plan_run", "run_summary", "run_sync"),
        *("Assertion", "Grade", "evaluate", "load_suite", "run_gate", "score_run"),
        *("RatingScheme", "load_schemes", "pairwise_results", "rate_cell"),
        *("build_report", "cell_trace", "dashboard_data", "leaderboard"),
        "feedback",
        "guard",
    }
    for name in promptyard.__all__:
        assert hasattr(promptyard, name)


def test_importing_promptyard_does_not_import_litellm_or_streamlit() -> None:
    import subprocess
    import sys

    code = "import sys, promptyard; print('litellm' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
