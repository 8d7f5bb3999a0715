"""What a guardrail policy adds to a cell's cache key, without loading the checks.

Kept apart from the engine so that storing a run's cells (which asks for a tag even when
no policy is in force) imports nothing heavy: the policy is read only when one is named.
"""

from __future__ import annotations

import hashlib

from promptyard.workspace import Workspace


def policy_tag(ws: Workspace, name: str | None) -> str | None:
    """The policy `name` as it is now, as a short tag for cache keys (its name and a digest
    of its checks); None for no policy. Raises GuardrailsError for an unknown policy."""
    if not name:
        return None
    from promptyard.guardrails.config import load_policy

    policy = load_policy(ws, name)
    checks = repr((policy.input, policy.output, policy.restore))
    return f"{name}:{hashlib.sha256(checks.encode()).hexdigest()[:16]}"


def guarded_key(cache_key: str, tag: str | None) -> str:
    """A cell's cache key under a policy (`policy_tag`): a guarded call is never served an
    unguarded answer, nor one guarded by an older version of the policy."""
    if not tag:
        return cache_key
    return hashlib.sha256(f"{cache_key}\x00guardrails\x00{tag}".encode()).hexdigest()
