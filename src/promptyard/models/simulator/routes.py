"""The simulator's other OpenAI routes: `/v1/models/{id}`, `/v1/embeddings`, the legacy
`/v1/completions`, and the middleware that answers like OpenAI for a wrong API key, an
unknown route or a wrong method (JSON errors, never plain text).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import uuid
from functools import lru_cache
from typing import Any

from promptyard.models.simulator.answers import _count_tokens, simulated_answer
from promptyard.models.simulator.catalog import SIMULATED_MODELS, SimModel
from promptyard.models.simulator.choices import cut_at_stop
from promptyard.models.simulator.faults import _error_body
from promptyard.models.simulator.validation import Refusal, check_sampling
from promptyard.prompts.tokens import truncate_to_tokens

EMBEDDING_DIMENSIONS = 256  # the default length of a simulated embedding
MAX_DIMENSIONS = 3072


def model_object(m: SimModel) -> dict[str, Any]:
    """A `/v1/models` entry, with the simulated prices beside OpenAI's fields."""
    return {
        "id": m.name,
        "object": "model",
        "created": 0,
        "owned_by": "promptyard-simulator",
        "description": m.description,
        "input_cost_per_token": m.input_cost_per_token,
        "output_cost_per_token": m.output_cost_per_token,
        "context_window": m.context_window,
    }


def refuse(refusal: Refusal) -> Any:
    """The JSON response of a refusal."""
    from aiohttp import web

    return web.json_response(refusal.body(), status=refusal.status)


def unknown_model(model: str) -> Any:
    """OpenAI's 404 for a model it does not serve."""
    return refuse(
        Refusal(
            f"The model `{model}` does not exist; the simulator serves "
            f"{', '.join(SIMULATED_MODELS)}.",
            "model",
            "model_not_found",
            404,
        )
    )


def _authorized(expected: str | None, header: str | None) -> Refusal | None:
    if not expected:
        return None
    given = (header or "").removeprefix("Bearer ").strip()
    if not header or not given:
        return Refusal(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            status=401,
        )
    if given != expected:
        # like OpenAI, show only the key's ends; the simulator never logs it
        shown = f"{given[:3]}***{given[-2:]}" if len(given) > 8 else "***"
        return Refusal(f"Incorrect API key provided: {shown}.", None, "invalid_api_key", 401)
    return None


def middleware(handle: Any) -> Any:
    """Check `handle.api_key` on every /v1 route; turn aiohttp's 404/405 into OpenAI JSON."""
    from aiohttp import web

    @web.middleware
    async def guard(request: Any, handler: Any) -> Any:
        if request.path != "/health":
            refusal = _authorized(handle.api_key, request.headers.get("Authorization"))
            if refusal:
                return refuse(refusal)
        try:
            return await handler(request)
        except web.HTTPNotFound:
            message = f"Invalid URL ({request.method} {request.path})"
            return web.json_response(_error_body(message, "invalid_request_error"), status=404)
        except web.HTTPMethodNotAllowed:
            message = f"Method {request.method} is not allowed for {request.path}"
            return web.json_response(_error_body(message, "invalid_request_error"), status=405)

    return guard


async def read_body(request: Any) -> dict[str, Any] | Refusal:
    """The request's JSON object, or the refusal OpenAI gives for a body that is not one."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return Refusal(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        )
    return body


async def retrieve_model(request: Any) -> Any:
    """`GET /v1/models/{id}`: the model, or 404 model_not_found."""
    from aiohttp import web

    name = request.match_info["model"]
    spec = SIMULATED_MODELS.get(name)
    return web.json_response(model_object(spec)) if spec else unknown_model(name)


@lru_cache(maxsize=20_000)
def _word_vector(word: str, dimensions: int) -> Any:
    import numpy as np

    seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big")
    # RandomState's stream is frozen across numpy versions: the same vector everywhere
    vector = np.random.RandomState(seed).standard_normal(dimensions)
    vector.flags.writeable = False  # shared by every text that has this word
    return vector


def _embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector: the sum of one pseudo-random vector per word, so texts that share
    words point the same way (cosine similarity means something)."""
    import numpy as np

    vector = np.zeros(dimensions)
    for word in text.lower().split() or [""]:
        vector += _word_vector(word, dimensions)
    norm = float(np.linalg.norm(vector)) or 1.0
    return [float(v) for v in np.round(vector / norm, 6)]


def _inputs(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [" ".join(map(str, value))]  # one input given as token ids
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return [" ".join(map(str, v)) for v in value]
    return None


async def embeddings(request: Any) -> Any:
    """`POST /v1/embeddings`: deterministic vectors, `dimensions` and base64 honoured."""
    from aiohttp import web

    body = await read_body(request)
    if isinstance(body, Refusal):
        return refuse(body)
    model = body.get("model")
    if not model:
        return refuse(
            Refusal("Missing required parameter: 'model'.", "model", "missing_required_parameter")
        )
    if "input" not in body:
        return refuse(
            Refusal("Missing required parameter: 'input'.", "input", "missing_required_parameter")
        )
    texts = _inputs(body["input"])
    if texts is None or any(t == "" for t in texts):
        return refuse(
            Refusal(
                "'$.input' is invalid. Please check the API reference: "
                "https://platform.openai.com/docs/api-reference.",
                "input",
            )
        )
    if str(model) not in SIMULATED_MODELS:
        return unknown_model(str(model))
    dims = body.get("dimensions", EMBEDDING_DIMENSIONS)
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMENSIONS:
        return refuse(
            Refusal(
                f"Invalid 'dimensions': expected an integer between 1 and {MAX_DIMENSIONS}, "
                f"but got {dims!r} instead.",
                "dimensions",
                "invalid_value",
            )
        )
    base64_wanted = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(texts):
        vector = _embedding(text, dims)
        shown: Any = vector
        if base64_wanted:
            shown = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": shown})
    tokens = sum(_count_tokens(t) for t in texts)
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


async def legacy_completions(request: Any) -> Any:
    """`POST /v1/completions`: the legacy text API, answered like a one-message chat."""
    from aiohttp import web

    body = await read_body(request)
    if isinstance(body, Refusal):
        return refuse(body)
    if not body.get("model"):
        return refuse(
            Refusal("Missing required parameter: 'model'.", "model", "missing_required_parameter")
        )
    prompts = _inputs(body.get("prompt"))
    if prompts is None:
        return refuse(
            Refusal("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
        )
    refusal = check_sampling(body)
    for unsupported in ("stream", "logprobs", "suffix"):
        if body.get(unsupported) and refusal is None:
            refusal = Refusal(
                f"The simulator's legacy completions do not support '{unsupported}'; "
                "use /v1/chat/completions.",
                unsupported,
                "unsupported_parameter",
            )
    if refusal:
        return refuse(refusal)
    model = str(body["model"])
    if model not in SIMULATED_MODELS:
        return unknown_model(model)
    n = int(body.get("n") or 1)
    limit = body.get("max_tokens")
    limit = limit if isinstance(limit, int) else 16  # the legacy API's default
    choices, prompt_tokens, completion_tokens = [], 0, 0
    for p_index, prompt in enumerate(prompts):
        prompt_tokens += _count_tokens(prompt)
        for k in range(n):
            messages = [{"role": "user", "content": prompt}]
            text = simulated_answer(model, messages, body, f"|completion-{k}")
            text, _ = cut_at_stop(text, body.get("stop"))
            finish, tokens = "stop", _count_tokens(text)
            if tokens > limit:
                text, tokens, finish = (
                    truncate_to_tokens(text, limit, "gpt-4o-mini"),
                    limit,
                    "length",
                )
            completion_tokens += tokens
            if body.get("echo"):
                text = prompt + text
            choices.append(
                {"text": text, "index": p_index * n + k, "logprobs": None, "finish_reason": finish}
            )
    return web.json_response(
        {
            "id": f"cmpl-{uuid.uuid4().hex[:24]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "promptyard-simulator",
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )
