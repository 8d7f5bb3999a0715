"""The Playground in a real browser: tokens stream into every column at once, chat turns
go to every model with the conversation so far, and no playground call takes a run id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from promptyard import runs
from promptyard.models import SimulatorHandle, start_simulator
from tests.e2e.conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e

# A simulator in this process, so the test sees what reached it. Slow on purpose: an
# answer streams in pieces over ~4 s, long enough to watch every column grow.
LATENCY_MS = 6000


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[SimulatorHandle]:
    handle = start_simulator(latency_ms=LATENCY_MS)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def server_env(slow_sim: SimulatorHandle) -> dict[str, str | None]:
    return {"PROMPTYARD_SIMULATOR_URL": slow_sim.url}


# Samples, on every animation frame, what each output column shows and whether its
# finished numbers ("tokens") are there yet.
_WATCH = """
() => {
  window.__samples = [];
  const read = () => [0, 1].map(i => {
    const box = document.querySelector(`.st-key-playground-out-${i}`);
    if (!box) return [null, false];
    const text = [...box.querySelectorAll('[data-testid="stText"]')].map(e => e.innerText).join("\\n");
    const done = [...box.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .some(e => e.innerText.includes("tokens"));
    return [text, done];
  });
  const tick = () => { window.__samples.push(read()); requestAnimationFrame(tick); };
  tick();
}
"""


def _streaming(sample: list[list[Any]]) -> bool:
    """Both columns show part of an answer, and neither has finished."""
    return all(text and text.strip() not in ("", "…") and not done for text, done in sample)


def test_tokens_stream_into_every_column_at_once(
    workspace: Any, page: Any, app_url: str, slow_sim: SimulatorHandle
) -> None:
    slow_sim.reset_counts()
    page.goto(f"{app_url}/playground")
    wait_idle(page)
    page.get_by_role("button", name="Run all").wait_for()
    page.evaluate(_WATCH)
    page.get_by_role("button", name="Run all").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.st-key-playground-out-1 [data-testid=\"stCaptionContainer\"]').length"
        " && [0, 1].every(i => document.querySelector(`.st-key-playground-out-${i}`)"
        ".innerText.includes('tokens'))",
        timeout=90_000,
    )
    samples = page.evaluate("window.__samples")
    final = [text for text, _done in samples[-1]]
    assert all(final) and slow_sim.calls == 2
    # There was a moment when every column showed part of its answer at once, and each
    # column grew through several partial texts, each a beginning of its final answer.
    assert any(_streaming(s) for s in samples), "never every column streaming at once"
    for i in (0, 1):
        partial = {s[i][0] for s in samples if s[i][0] and s[i][0] != "…" and not s[i][1]}
        assert len(partial) >= 2, f"column {i + 1} did not visibly stream: {partial}"
        assert all(final[i].startswith(p.rstrip()) for p in partial)
    screenshot(page, "playground")
    # A playground call takes no run id and stays out of Compare and Rate.
    assert runs.list_runs(workspace, kind=None) == []
    assert not page.errors


def test_chat_turns_go_to_every_model_with_the_conversation(
    workspace: Any, page: Any, app_url: str, slow_sim: SimulatorHandle
) -> None:
    slow_sim.latency_ms = 300
    try:
        slow_sim.reset_counts()
        page.goto(f"{app_url}/playground")
        wait_idle(page)
        page.get_by_test_id("stButtonGroup").get_by_text("Chat", exact=True).click()
        wait_idle(page)
        box = page.get_by_placeholder("Message every column")
        for n, message in enumerate(["Make it shorter", "Now as a haiku"], 1):
            box.fill(message)
            box.press("Enter")
            page.wait_for_function(
                "n => [0, 1].every(i => { const b = document.querySelector("
                "`.st-key-playground-out-${i}`); return b && [...b.querySelectorAll("
                "'[data-testid=\"stChatMessage\"]')].length === 2 * n && "
                "b.innerText.includes('tokens'); })",
                arg=n,
                timeout=90_000,
            )
            wait_idle(page)
        assert slow_sim.calls == 4
        for i in (0, 1):
            column = page.locator(f".st-key-playground-out-{i}")
            texts = column.locator('[data-testid="stChatMessage"]').all_inner_texts()
            assert "Make it shorter" in texts[0] and "Now as a haiku" in texts[2]
        # Each model got its own conversation: the first turn, its own answer, the second.
        last_two = list(slow_sim.requests)[-2:]
        assert {r["model"] for r in last_two} == {"sim-fast", "sim-smart"}
        for body in last_two:
            roles = [m["role"] for m in body["messages"]]
            assert roles[-3:] == ["user", "assistant", "user"]
            assert body["messages"][-1]["content"] == "Now as a haiku"
        screenshot(page, "playground-chat")
        assert runs.list_runs(workspace, kind=None) == []
        assert not page.errors
    finally:
        slow_sim.latency_ms = LATENCY_MS
