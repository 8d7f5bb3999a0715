"""The `paraphrase` perturbation: an LLM rewrites each text through a versioned `.prompty`.

The prompt is the workspace's `prompts/paraphrase.prompty` (users edit and version it like
any prompt); the model is the one the user picks. The call carries the seed, so a model
that honours `seed` (and the simulator) gives the same paraphrase for the same seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from promptyard.robustness.perturb import (
    PerturbationError,
    PerturbationKind,
    Perturbations,
    PerturbedRow,
    variant_row_id,
)
from promptyard.workspace import Workspace

PARAPHRASE_PROMPT = "paraphrase"
PARAPHRASE_CONCURRENCY = 8
PARAPHRASE_ATTEMPTS = 3


def _clean(answer: str | None) -> str | None:
    text = (answer or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()  # a model that quotes its rewrite
    return text or None


async def _paraphrase(endpoint: Any, messages: Any, parameters: dict[str, Any]) -> str | None:
    from promptyard.models import ModelCall, complete

    call = ModelCall(endpoint=endpoint, messages=messages, parameters=parameters)
    for attempt in range(PARAPHRASE_ATTEMPTS):
        completion = await complete(call)
        if completion.ok:
            return _clean(completion.text)
        if not completion.retryable:
            break
        await asyncio.sleep(min(completion.retry_after_s or 0.5 * 2**attempt, 10.0))
    return None


async def paraphrase_rows_async(
    ws: Workspace,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    model: str,
    *,
    seed: int = 0,
    prompt: str = PARAPHRASE_PROMPT,
) -> Perturbations:
    """One paraphrased variant per row; a row whose texts the model could not rewrite (an
    error, an empty or unchanged answer) is skipped and counted. Raises NotFoundError for
    a missing prompt and UnknownModelError for an unknown model, before any call."""
    from promptyard.models import resolve_model
    from promptyard.prompts import get_prompt

    name, _, ref = prompt.partition("@")
    template = get_prompt(name, ref or None, workspace=ws)
    if "text" not in {getattr(v, "name", v) for v in template.variables}:
        raise PerturbationError(f"prompts/{name}.prompty must use the variable {{{{ text }}}}")
    endpoint = resolve_model(ws, model)
    parameters = {**dict(template.parameters or {}), "seed": seed}
    gate = asyncio.Semaphore(PARAPHRASE_CONCURRENCY)

    async def one(text: str) -> str | None:
        async with gate:
            return await _paraphrase(endpoint, template.render(text=text), parameters)

    jobs: list[tuple[int, str, asyncio.Task[str | None]]] = []
    for i, row in enumerate(rows):
        for column in columns:
            value = row.get(column)
            if isinstance(value, str) and value.strip():
                jobs.append((i, column, asyncio.ensure_future(one(value))))
    answers: dict[int, dict[str, str]] = {}
    for i, column, task in jobs:
        new = await task
        if new is not None and new != rows[i][column]:
            answers.setdefault(i, {})[column] = new
    kind = PerturbationKind.PARAPHRASE
    out = Perturbations(skipped={kind.value: 0})
    for i, row in enumerate(rows):
        changed = answers.get(i)
        if not changed:
            out.skipped[kind.value] += 1
            continue
        row_id = str(row["id"])
        out.rows.append(
            PerturbedRow(row_id, kind, {**row, **changed, "id": variant_row_id(row_id, kind)})
        )
    return out


def paraphrase_rows(
    ws: Workspace,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    model: str,
    *,
    seed: int = 0,
    prompt: str = PARAPHRASE_PROMPT,
) -> Perturbations:
    """`paraphrase_rows_async` for callers without an event loop."""
    return asyncio.run(paraphrase_rows_async(ws, rows, columns, model, seed=seed, prompt=prompt))
