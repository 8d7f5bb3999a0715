"""Deterministic log probabilities for a simulated answer, in OpenAI's `logprobs` shape."""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _encoding() -> Any:
    from promptyard._env import configure_offline_defaults

    configure_offline_defaults()  # tiktoken's bundled encodings, no download
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def _tokens(text: str) -> list[str]:
    enc = _encoding()
    pieces = [enc.decode_single_token_bytes(t) for t in enc.encode(text, disallowed_special=())]
    out: list[str] = []
    pending = b""
    for piece in pieces:  # a token may hold half a character: join until it decodes
        pending += piece
        try:
            out.append(pending.decode("utf-8"))
            pending = b""
        except UnicodeDecodeError:
            continue
    if pending:
        out.append(pending.decode("utf-8", "replace"))
    return out


def _logprob(material: str) -> float:
    digest = hashlib.sha256(material.encode()).digest()
    share = int.from_bytes(digest[:4], "big") / 2**32
    return round(math.log(0.55 + 0.45 * share), 6)  # a likely token: p between 0.55 and 1


def logprobs_for(text: str, top: int = 0, offset: int = 0) -> dict[str, Any]:
    """`choices[i].logprobs` for `text`: one entry per token, `top` alternatives each."""
    content = []
    for i, token in enumerate(_tokens(text)):
        lp = _logprob(f"{offset + i}|{token}")
        alternatives = [
            {
                "token": token,
                "logprob": lp,
                "bytes": list(token.encode()),
            }
        ]
        for k in range(1, top):
            other = f" {token.strip() or 'the'}{'s' * k}"
            alt = round(lp + math.log(0.4 / (k + 1)), 6)
            alternatives.append({"token": other, "logprob": alt, "bytes": list(other.encode())})
        content.append(
            {
                "token": token,
                "logprob": lp,
                "bytes": list(token.encode()),
                "top_logprobs": alternatives[:top],
            }
        )
    return {"content": content, "refusal": None}
