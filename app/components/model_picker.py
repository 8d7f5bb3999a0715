"""A model picker over the catalog: simulator models are labelled "(simulated)"."""

from __future__ import annotations

import streamlit as st

from promptyard.errors import PromptyardError
from promptyard.models import ModelEndpoint, default_models, load_catalog
from promptyard.workspace import Workspace


def _catalog(ws: Workspace) -> dict[str, ModelEndpoint]:
    try:
        return {e.name: e for e in load_catalog(ws)}
    except PromptyardError as exc:  # a broken models.yaml: say where, offer the rest
        st.warning(str(exc))
        from promptyard.models import SIMULATED_MODELS, simulated_endpoint

        return {n: simulated_endpoint(n) for n in SIMULATED_MODELS}


def model_picker(
    ws: Workspace,
    label: str,
    key: str,
    *,
    max_selections: int | None = None,
    default: list[str] | None = None,
) -> list[str]:
    """A multiselect of model names; preselects the workspace's default models."""
    catalog = _catalog(ws)
    if key not in st.session_state:
        wanted = default if default is not None else default_models(ws)[:1]
        st.session_state[key] = [m for m in wanted if m in catalog]
    return st.multiselect(
        label,
        list(catalog),
        key=key,
        max_selections=max_selections,
        format_func=lambda name: catalog[name].label if name in catalog else name,
        help="Simulated models answer offline; add your own endpoints in models.yaml.",
    )


def single_model_picker(ws: Workspace, label: str, key: str, default: str | None = None) -> str:
    """A selectbox of one model name."""
    catalog = _catalog(ws)
    names = list(catalog)
    if key not in st.session_state:
        first = default if default in catalog else (default_models(ws) or names)[0]
        st.session_state[key] = first if first in catalog else names[0]
    return str(
        st.selectbox(
            label,
            names,
            key=key,
            format_func=lambda name: catalog[name].label if name in catalog else name,
        )
    )
