"""Guardrails on pages: the policy picker (Playground) and the dashboard's pass and repair rates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from promptyard import guardrails
from promptyard.csv_safety import neutralise_cell
from promptyard.workspace import Workspace

_NONE = "none"


def guardrail_picker(
    ws: Workspace, key: str, policies: guardrails.Policies | None = None
) -> str | None:
    """A select box of guardrails.yaml's policies (`policies` when the page read them);
    the one picked, or None."""
    policies = policies if policies is not None else guardrails.load_policies(ws)
    if policies.warning:
        st.warning(policies.warning, icon="⚠️")
    if not policies.policies:
        return None
    names = [_NONE, *sorted(policies.policies)]
    picked = st.selectbox(
        "Guardrails",
        names,
        key=key,
        help="Send the call through a guardrails.yaml policy: personal data masked before "
        "the model sees it, the answer checked (docs/guardrails.md).",
    )
    return None if picked == _NONE else str(picked)


@st.cache_data(ttl=15, show_spinner=False)
def _rates(root: str) -> list[guardrails.GuardrailRates]:
    return guardrails.guardrail_rates(Workspace(Path(root)))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def guardrail_section(ws: Workspace) -> None:
    """Guardrail pass, repair and block rates per prompt version and model; nothing when no
    run used a policy."""
    rows = _rates(str(ws.root))
    if not rows:
        return
    st.subheader("Guardrails", anchor=False)
    st.caption(
        "Calls sent through a guardrails.yaml policy. Passed: no check fired (masking aside); "
        "repaired: a JSON repair or a retry made the answer pass; blocked: withheld."
    )
    frame = pd.DataFrame(
        [
            {
                "prompt": r.prompt_name,
                "version": f"v{r.prompt_version}" if r.prompt_version else "draft",
                "model": r.model,
                "policy": r.policy,
                "calls": r.cells,
                "passed": _pct(r.pass_rate),
                "repaired": _pct(r.repair_rate),
                "blocked": _pct(r.block_rate),
                "flagged": r.flagged,
                "masked": ", ".join(f"{n} {k}" for k, n in sorted(r.masked.items())) or "—",
            }
            for r in rows
        ]
    ).map(neutralise_cell)
    st.dataframe(frame, hide_index=True, width="stretch")
