"""`promptyard import promptfoo CONFIG` on real configs from promptfoo's examples folder
(tests/fixtures/promptfoo/SOURCES.md says where each comes from), then `promptyard eval`
on what it made, offline with the echo model."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from promptyard.evals import Assertion, EvalContext, check_assertion, evaluate
from promptyard.evals.promptfoo_import import from_csv, import_promptfoo
from promptyard.models import SIMULATED_MODELS, SimulatorHandle
from tests.cli import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "promptfoo"


def cli(ws: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=ws.root)


def commits(ws: Any) -> int:
    out = subprocess.run(
        ["git", "rev-list", "--count", "HEAD"], cwd=ws.root, capture_output=True, text=True
    )
    return int(out.stdout.strip())


class _Echo(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint whose answer is the rendered prompt: the messages'
    contents joined by a blank line (one message: exactly its content)."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = "\n\n".join(str(m.get("content") or "") for m in body["messages"])
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for chunk in (
                {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {"choices": [], "usage": usage},
            ):
                event = {"id": "e", "object": "chat.completion.chunk", "model": "echo", **chunk}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        answer = {
            "id": "e",
            "object": "chat.completion",
            "created": 0,
            "model": "echo",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo(workspace: Any, sim: SimulatorHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The `echo` model: the simulator's own when this build has it; otherwise a
    `models.yaml` entry named `echo` pointing at a loopback server with echo's answers."""
    if "echo" in SIMULATED_MODELS:
        yield "simulator"
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ECHO_TEST_KEY", "not-a-secret")
    entry = {
        "model": "openai/echo",
        "api_base": f"http://127.0.0.1:{server.server_port}/v1",
        "api_key_env": "ECHO_TEST_KEY",
        "provider": "openai_compatible",
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
    }
    (workspace.root / "models.yaml").write_text(yaml.safe_dump({"models": {"echo": entry}}))
    subprocess.run(["git", "add", "models.yaml"], cwd=workspace.root, check=True)
    subprocess.run(["git", "commit", "-qm", "echo model"], cwd=workspace.root, check=True)
    yield "models.yaml"
    server.shutdown()


def test_echo_example_imports_and_evals_offline(workspace: Any, echo: str) -> None:
    before = commits(workspace)
    r = cli(workspace, "import", "promptfoo", str(FIXTURES / "echo-simple/promptfooconfig.yaml"))
    assert r.returncode == 0, r.stderr
    # the three tests with javascript/python assertions are skipped and named, with why
    assert "skipped 3 test(s)" in r.stdout
    for skipped in ("Test with JavaScript", "Test with Python", "Test with multiple assertions"):
        assert skipped in r.stdout
    assert "runs code from the config" in r.stdout
    assert commits(workspace) == before + 3  # the prompt, the dataset and the suite
    suite = yaml.safe_load((workspace.root / "evals/echo-simple.yaml").read_text())
    assert suite["models"] == ["echo"] and suite["prompts"] == ["echo-simple"]
    rows = [json.loads(x) for x in (workspace.root / "datasets/echo-simple.jsonl").open()]
    assert [r["input"] for r in rows] == [
        "Hello, World!",
        "The quick brown fox",
        "HELLO WORLD",
        "user@example.com",
        '{"key": "value", "number": 42}',
    ]

    r = cli(workspace, "eval", "echo-simple", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    assert result["passed"] is True
    current = result["comparisons"][0]["current"]
    assert current["cells"] == 5 and current["pass_rate"] == 1.0


def test_chat_prompt_default_test_csv_and_thresholds_run_as_in_promptfoo(
    workspace: Any, echo: str
) -> None:
    report = import_promptfoo(workspace, FIXTURES / "echo-chat/promptfooconfig.yaml")
    assert report.suite == "echo-chat" and report.rows == 6  # Berlin and Madrid: two rows
    assert sorted(report.prompts) == ["echo-chat_2", "echo-chat_prompt"]
    assert any("tests.csv line 4" in s and "javascript" in s for s in report.skipped)
    assert any("needs embeddings" in s and "similar" in s for s in report.skipped)
    text = (workspace.root / "prompts/echo-chat_prompt.prompty").read_text()
    assert "system:\nYou are a travel agent. Answer in {{language}}." in text
    suite = yaml.safe_load((workspace.root / "evals/echo-chat.yaml").read_text())
    kinds = [a["type"] for a in suite["assert"]]
    assert kinds == ["icontains", "not-contains", "row-assertions"]  # defaultTest first
    assert suite["assert"][0]["weight"] == 2

    r = cli(workspace, "eval", "echo-chat", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    rates = {c["prompt"]: c["current"]["pass_rate"] for c in result["comparisons"]}
    # the Rome test passes on the second prompt only through its threshold of 0.5
    assert rates == {"echo-chat_prompt": 1.0, "echo-chat_2": 1.0}


def test_tests_with_the_same_checks_become_the_suites_own_assertions(
    workspace: Any, echo: str, tmp_path: Path
) -> None:
    project = tmp_path / "same"
    project.mkdir()
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['Say {{word}}']\nproviders: [echo]\ntests:\n"
        + "".join(
            f"  - vars: {{word: {w}}}\n    assert:\n"
            f"      - {{type: contains, value: {w}, metric: says it}}\n"
            "      - {type: levenshtein, value: Say it, threshold: 7}\n"
            for w in ("hello", "goodbye", "thanks")
        )
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml")
    suite = yaml.safe_load((workspace.root / "evals/same.yaml").read_text())
    assert suite["assert"] == [
        {"type": "contains", "value": "{{promptfoo_value_1}}", "name": "says it"},
        {"type": "levenshtein", "value": "Say it", "threshold": 7},
    ]
    assert report.rows == 3
    r = cli(workspace, "eval", "same", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    current = json.loads(r.stdout)["comparisons"][0]["current"]
    assert current["pass_rate"] == 1.0 and set(current["assertions"]) >= {"says it"}


def test_getting_started_maps_providers_to_litellm_and_keeps_each_tests_assertions(
    workspace: Any,
) -> None:
    report = import_promptfoo(workspace, FIXTURES / "getting-started/promptfooconfig.yaml")
    assert report.models == ["openai/gpt-4.1", "openai/o4-mini"]
    assert report.skipped == [] and report.rows == 2
    prompt = (workspace.root / "prompts/getting-started_1.prompty").read_text()
    assert "Convert this English to {{language}}: {{input}}" in prompt
    rows = [json.loads(x) for x in (workspace.root / "datasets/getting-started.jsonl").open()]
    assert rows[0]["promptfoo_assert"] == {
        "assert": [{"type": "contains", "value": "Bonjour le monde"}]
    }
    assert rows[1]["promptfoo_assert"]["assert"][0]["type"] == "icontains"
    r = cli(workspace, "suites", "--json")
    assert r.returncode == 0 and "getting-started" in r.stdout


def test_csv_tests_expected_columns_and_a_prompt_promptyard_cannot_render(
    workspace: Any,
) -> None:
    report = import_promptfoo(workspace, FIXTURES / "simple-csv/promptfooconfig.yaml")
    # promptfoo's `load` filter (JSON.parse) does not exist in Promptyard's sandbox
    assert list(report.prompts) == ["simple-csv_prompts_2"]
    assert any("simple-csv_prompts_1" in n and "load" in n for n in report.notes)
    rows = [json.loads(x) for x in (workspace.root / "datasets/simple-csv.jsonl").open()]
    # every test has one icontains: the suite has it, each row holds its value
    assert [r["promptfoo_value_1"] for r in rows] == ["bonjour", "faim", "Ahoy", "grub"]
    suite = yaml.safe_load((workspace.root / "evals/simple-csv.yaml").read_text())
    assert suite["assert"] == [{"type": "icontains", "value": "{{promptfoo_value_1}}"}]
    assert rows[0]["style_config"] == '{"tone":"formal","length":"brief"}'


def test_tests_without_assertions_give_prompts_and_a_dataset(workspace: Any) -> None:
    report = import_promptfoo(workspace, FIXTURES / "assistant-cli/promptfooconfig.yaml")
    assert len(report.prompts) == 2 and report.rows == 10 and report.suite is None
    assert any("no suite" in n for n in report.notes)


def test_unsupported_tests_are_skipped_and_listed_never_dropped(workspace: Any) -> None:
    report = import_promptfoo(workspace, FIXTURES / "json-output/promptfooconfig.yaml")
    assert len(report.skipped) == 2
    assert "javascript" in report.skipped[0] and "transform" in report.skipped[1]
    assert report.dataset is None and report.suite is None
    assert any("no test could be carried over" in n for n in report.notes)


def test_a_config_with_nothing_to_carry_over_changes_nothing(workspace: Any) -> None:
    before = commits(workspace)
    r = cli(
        workspace,
        "import",
        "promptfoo",
        str(FIXTURES / "multiple-turn-conversation/promptfooconfig.yaml"),
    )
    assert r.returncode == 1
    assert "no prompt can be carried over" in r.stderr and "prompt.json" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert commits(workspace) == before
    assert not (workspace.root / "datasets/multiple-turn-conversation.jsonl").exists()


def test_unknown_providers_are_reported(workspace: Any, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['Hi {{name}}']\n"
        "providers:\n  - echo\n  - file://my_provider.py\n  - id: acme:chat:big\n"
        "tests:\n  - vars: {name: Ann}\n    assert:\n      - type: levenshtein\n"
        "        value: Hi Ann\n        threshold: 2\n"
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml", name="hello")
    assert report.models == ["echo"]
    notes = " ".join(report.notes)
    assert "my_provider.py" in notes and "runs code" in notes
    assert "'acme:chat:big'" in notes and "does not know" in notes
    r = cli(workspace, "import", "promptfoo", str(tmp_path / "missing.yaml"))
    assert r.returncode == 1 and "no such file" in r.stderr


def test_importing_twice_adds_no_versions(workspace: Any) -> None:
    config = FIXTURES / "getting-started/promptfooconfig.yaml"
    import_promptfoo(workspace, config)
    before = commits(workspace)
    again = import_promptfoo(workspace, config)
    assert commits(workspace) == before and again.prompts["getting-started_1"] == "v1"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("icontains:bonjour", {"type": "icontains", "value": "bonjour"}),
        ("not-contains:x, y", {"type": "not-contains", "value": "x, y"}),
        ("rouge-n(0.2):a b", {"type": "rouge-n", "value": "a b", "threshold": 0.2}),
        ("grade:is polite", {"type": "llm-rubric", "value": "is polite"}),
        ("is-json", {"type": "is-json"}),
        ("Just the answer", {"type": "equals", "value": "Just the answer"}),
        ("fn:output.length > 3", {"type": "javascript", "value": "output.length > 3"}),
    ],
)
def test_csv_expected_cells_read_as_promptfoo_reads_them(
    cell: str, expected: dict[str, Any]
) -> None:
    assert from_csv(cell) == expected


def _row(asserts: list[dict[str, Any]], threshold: float | None = None) -> Assertion:
    held: dict[str, Any] = {"assert": asserts}
    if threshold is not None:
        held["threshold"] = threshold
    a = Assertion("row-assertions", held, where="evals/x.yaml line 4")
    check_assertion(a)
    return a


def test_row_assertions_grade_a_test_as_promptfoo_does() -> None:
    both = [{"type": "contains", "value": "a"}, {"type": "contains", "value": "z"}]
    g = evaluate("abc", EvalContext(), _row(both))
    assert (
        g.passed is False and g.value == pytest.approx(0.5) and "contains: missing 'z'" in g.reason
    )
    assert evaluate("abc", EvalContext(), _row(both, threshold=0.5)).passed is True
    weighted = [{**both[0], "weight": 3}, both[1]]
    assert evaluate("abc", EvalContext(), _row(weighted, 0.7)).value == pytest.approx(0.75)
    # values use the row's vars, as promptfoo renders them with Nunjucks
    ctx = EvalContext(inputs={"city": "Oslo"})
    assert evaluate("to Oslo", ctx, _row([{"type": "icontains", "value": "{{city}}"}])).passed
    assert evaluate("x", EvalContext(), _row([])).passed is True
    bad = evaluate("x", EvalContext(), _row([{"type": "contains-any", "value": '"open'}]))
    assert bad.error and bad.passed is False


def test_a_judge_in_one_tests_own_assertions_is_skipped_with_the_reason(
    workspace: Any, tmp_path: Path
) -> None:
    project = tmp_path / "judged"
    project.mkdir()
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['Hi {{name}}']\nproviders: [echo]\ntests:\n"
        "  - vars: {name: Ann}\n    assert: [{type: contains, value: Ann}]\n"
        "  - vars: {name: Bo}\n    assert: [{type: llm-rubric, value: is friendly}]\n"
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml")
    assert report.rows == 1 and len(report.skipped) == 1
    assert "tests[2]" in report.skipped[0] and "llm-rubric" in report.skipped[0]
    # every test judged alike: the judge is the suite's own assertion
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['Hi {{name}}']\nproviders: [echo]\ntests:\n"
        "  - vars: {name: Ann}\n    assert: [{type: llm-rubric, value: is friendly}]\n"
        "  - vars: {name: Bo}\n    assert: [{type: llm-rubric, value: is friendly}]\n"
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml", name="judged2")
    suite = yaml.safe_load((workspace.root / "evals/judged2.yaml").read_text())
    assert suite["assert"] == [{"type": "llm-rubric", "value": "is friendly"}]
    assert any("1-5 scale" in n for n in report.notes)


def test_files_outside_the_project_folder_are_refused(workspace: Any, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("do not read me {{x}}")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "link.txt").symlink_to(tmp_path / "secret.txt")
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['file://../secret.txt', 'file://link.txt', 'Hi {{x}}']\n"
        "providers: [echo]\n"
        "tests:\n  - vars: {x: 'file://../secret.txt'}\n    assert: [{type: contains, value: Hi}]\n"
        "  - vars: {x: Ann}\n    assert: [{type: contains, value: Ann}]\n"
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml")
    assert list(report.prompts) == ["proj"] and report.rows == 1
    outside = [n for n in report.notes + report.skipped if "outside the project folder" in n]
    assert len(outside) == 3  # two prompts and one var
    saved = "".join(p.read_text() for p in workspace.prompts_dir.glob("proj*.prompty"))
    assert "do not read me" not in saved


def test_a_provider_named_in_models_yaml_maps_to_that_entry(workspace: Any, tmp_path: Path) -> None:
    (workspace.root / "models.yaml").write_text(
        "models:\n  my-local:\n    model: openai/qwen\n    api_base: http://127.0.0.1:9/v1\n"
    )
    project = tmp_path / "local"
    project.mkdir()
    (project / "promptfooconfig.yaml").write_text(
        "prompts: ['Hi {{name}}']\n"
        "providers:\n  - id: openai:chat:qwen\n    label: my-local\n"
        "    config: {temperature: 0.2, max_tokens: 64}\n"
        "tests:\n  - vars: {name: Ann}\n    assert: [{type: contains, value: Ann}]\n"
    )
    report = import_promptfoo(workspace, project / "promptfooconfig.yaml")
    assert report.models == ["my-local"]
    suite = yaml.safe_load((workspace.root / "evals/local.yaml").read_text())
    assert suite["parameters"] == {"temperature": 0.2, "max_tokens": 64}
