"""Prompts: list, create, edit with a live preview, save, history, diff, restore, labels."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import state
import streamlit as st
from components.context import workspace
from components.versions import version_label, version_picker

from promptyard import prompts
from promptyard.errors import PromptyardError
from promptyard.prompts import (
    PromptTemplate,
    TemplateError,
    dump_prompt,
    split_front_matter,
    with_changes,
)
from promptyard.versioning import ConflictError, Store
from promptyard.versioning.diffs import diff_stats, side_by_side

try:  # the code editor; a plain text area when the component is missing
    from streamlit_ace import st_ace
except ImportError:  # pragma: no cover
    st_ace = None

NEW_PROMPT_BODY = "system:\nYou are a helpful assistant.\n\nuser:\n{{ question }}\n"

ws = workspace()
st.title("📝 Prompts")


def _flash() -> None:
    message = st.session_state.pop(state.PROMPT_FLASH, None)
    if message:
        st.success(message, icon="✅")


def _sidebar_list() -> str | None:
    summaries = prompts.list_prompts(ws, search=st.session_state.get(state.PROMPT_SEARCH, ""))
    st.text_input("Search prompts", key=state.PROMPT_SEARCH, placeholder="name or description")
    with st.popover("➕ New prompt", width="stretch"):
        new_name = st.text_input(
            "Name",
            key=state.PROMPT_NEW_NAME,
            placeholder="e.g. classify_intent",
            help="Letters, digits, '_', '-' and '.'; it becomes prompts/NAME.prompty",
        )
        if st.button("Create", type="primary", key="prompts.create"):
            try:
                path = prompts.prompt_path(new_name.strip())
                if Store(ws).abs_path(path).exists():
                    st.error(f"A prompt named {new_name!r} already exists.")
                else:
                    text = dump_prompt(
                        NEW_PROMPT_BODY,
                        name=new_name.strip(),
                        inputs={"question": {"sample": "What can you do?"}},
                    )
                    version = prompts.save_prompt(
                        new_name.strip(), text, f"Create prompt {new_name.strip()}", workspace=ws
                    )
                    st.session_state[state.PROMPT_SELECTED] = new_name.strip()
                    st.session_state[state.PROMPT_FLASH] = (
                        f"Created {new_name.strip()} {version.tag}."
                    )
                    st.rerun()
            except PromptyardError as exc:
                st.error(str(exc))
    if not summaries:
        if st.session_state.get(state.PROMPT_SEARCH):
            st.info("No prompt matches the search.")
        else:
            st.info(
                "No prompts yet. Create one above, or run `promptyard init` to get the examples."
            )
        return None
    names = [s.name for s in summaries]
    if st.session_state.get(state.PROMPT_SELECTED) not in names:
        st.session_state[state.PROMPT_SELECTED] = names[0]
    by_name = {s.name: s for s in summaries}

    def describe(name: str) -> str:
        s = by_name[name]
        tag = s.latest.tag if s.latest else "unsaved"
        labels = " ".join(f"🏷️{k}" for k in sorted(s.labels))
        flag = " ⚠️" if s.error else ""
        return f"{name} · {tag} {labels}{flag}"

    # The key changes with the list's labels (a save makes a new vN), so the radio starts
    # from the selection kept in PROMPT_SELECTED instead of a stale position.
    signature = hashlib.sha1("|".join(map(describe, names)).encode()).hexdigest()[:10]
    selected = st.radio(
        "Prompts",
        names,
        index=names.index(st.session_state[state.PROMPT_SELECTED]),
        format_func=describe,
        label_visibility="collapsed",
        key=state.prompt_list_key(signature),
    )
    st.session_state[state.PROMPT_SELECTED] = selected
    return selected


def _parse_for_fields(text: str, name: str) -> PromptTemplate | None:
    try:
        return prompts.parse_prompt(text, name)
    except TemplateError:
        return None


def _editor(name: str, text: str, base_sha: str | None) -> None:
    gen = st.session_state.get(state.PROMPT_GENERATION, 0)
    template = _parse_for_fields(text, name)
    body = split_front_matter(text)[1] if template is not None else text
    fk = lambda field: state.prompt_field_key(field, name, base_sha, gen)  # noqa: E731

    edit_col, preview_col = st.columns([3, 2], gap="large")
    with edit_col:
        if template is None:
            st.warning(
                "This file does not parse; fix it in the editor below (front matter included)."
            )
        else:
            with st.expander("Settings: description, model, parameters", expanded=False):
                description = st.text_input(
                    "Description", template.description, key=fk("description")
                )
                c1, c2, c3 = st.columns(3)
                model = c1.text_input(
                    "Model",
                    template.model or "",
                    key=fk("model"),
                    help="A name from models.yaml, a simulator model (sim-fast, sim-smart, sim-json) or a litellm model string",
                )
                temperature = c2.number_input(
                    "Temperature",
                    0.0,
                    2.0,
                    _as(float, template.parameters.get("temperature")),
                    step=0.1,
                    key=fk("temperature"),
                    placeholder="model default",
                )
                max_tokens = c3.number_input(
                    "Max tokens",
                    1,
                    200_000,
                    _as(int, template.parameters.get("max_tokens")),
                    step=32,
                    key=fk("max_tokens"),
                    placeholder="model default",
                )
        plain = st.toggle(
            "Plain text editor",
            key=state.PROMPT_PLAIN_EDITOR,
            help="Use a plain text box instead of the code editor",
        )
        if st_ace is not None and not plain:
            edited = st_ace(
                value=body,
                language="django",
                theme="chrome",
                min_lines=14,
                max_lines=40,
                wrap=True,
                show_gutter=True,
                auto_update=True,
                key=state.prompt_editor_key(name, base_sha, gen),
            )
        else:
            edited = st.text_area(
                "Template",
                body,
                height=360,
                key=state.prompt_editor_key(name, base_sha, gen) + "::plain",
            )
        edited_body = body if edited is None else edited

    if template is None:
        new_text = edited_body
        with preview_col:
            st.subheader("Preview")
            st.caption("The preview appears once the file parses.")
    else:
        params = dict(template.parameters)
        for key, value in (("temperature", temperature), ("max_tokens", max_tokens)):
            if value is None:
                params.pop(key, None)
            elif value != template.parameters.get(key):
                params[key] = round(float(value), 2) if key == "temperature" else int(value)
        with preview_col:
            samples = _sample_inputs(template, edited_body, fk)
        new_text = with_changes(
            template,
            body=edited_body,
            description=description,
            model=model,
            parameters=params,
            samples=samples,
        )
        with preview_col:
            _preview(new_text, name)

    with edit_col:
        error = (
            prompts.preview_prompt(new_text, name, {}).error
            if template is None
            else _render_error(new_text, name)
        )
        _show_error(
            error, body_start=split_front_matter(new_text)[2] if template is not None else 1
        )
        changed = (
            new_text != (text if template is None else with_changes(template)) and new_text != text
        )
        msg = st.text_input(
            "Change message", key=state.PROMPT_MESSAGE, placeholder="What did you change, and why?"
        )
        c1, c2 = st.columns([1, 3])
        save = c1.button("💾 Save", type="primary", disabled=not changed, key="prompts.save")
        c2.caption("Unsaved changes" if changed else "No changes since the latest version")
        if save:
            _save(name, new_text, msg, base_sha)


def _as(kind: type, value: Any) -> Any:
    return None if value is None else kind(value)


def _sample_inputs(template: PromptTemplate, body: str, fk: Any) -> dict[str, Any]:
    """Text areas for the sample value of each variable the edited body uses."""
    st.subheader("Preview")
    try:
        variables = prompts.parse_prompt(body, template.name).variables
    except TemplateError:
        variables = template.variables
    if variables:
        st.caption("Sample inputs (saved with the prompt)")
    samples = {}
    for var in variables:
        current = template.inputs.get(var, {}).get("sample", "")
        samples[var] = st.text_area(var, str(current), height=80, key=fk(f"sample::{var}"))
    return samples


def _render_error(text: str, name: str) -> TemplateError | None:
    template = _parse_for_fields(text, name)
    if template is None:
        return prompts.preview_prompt(text, name, {}).error
    return prompts.preview_prompt(text, name, template.samples).error


def _preview(text: str, name: str) -> None:
    template = _parse_for_fields(text, name)
    if template is None:
        st.caption("Fix the error to see the preview.")
        return
    preview = prompts.preview_prompt(text, name, template.samples)
    if not preview.messages:
        st.caption("Fill in every sample input to see the rendered messages.")
        return
    st.caption(
        f"{len(preview.messages)} messages · {preview.total_tokens} tokens in total "
        f"(tiktoken, {template.model or 'default'} encoding)"
    )
    avatars = {"system": "⚙️", "user": "🧑", "assistant": "🤖"}
    for message, count in zip(preview.messages, preview.tokens, strict=True):
        with st.chat_message(message["role"], avatar=avatars.get(message["role"])):
            st.caption(f"{message['role']} · {count} tokens")
            st.text(message["content"])


def _show_error(error: TemplateError | None, body_start: int = 1) -> None:
    """The error under the editor, with line numbers as the editor counts them."""
    if error is None:
        return
    line = error.line - body_start + 1 if error.line and error.line >= body_start else error.line
    where = (
        f"Line {line}, column {error.column}: "
        if line and error.column
        else (f"Line {line}: " if line else "")
    )
    st.error(f"{where}{error.reason}", icon="🚫")


def _save(name: str, text: str, message: str, base_sha: str | None) -> None:
    try:
        version = prompts.save_prompt(
            name, text, message or f"Update {name}", base=base_sha, workspace=ws
        )
    except ConflictError as exc:
        st.error(f"{exc}. Reload to see the new version; your edit is still in the editor.")
        st.code(exc.diff or "(no textual difference)", language="diff")
        return
    except PromptyardError as exc:
        st.error(str(exc))
        return
    st.session_state[state.PROMPT_FLASH] = f"Saved {name} {version.tag} ({version.short_sha})."
    st.session_state.pop(state.PROMPT_MESSAGE, None)
    st.session_state.setdefault(state.PROMPT_BASE_SHA, {})[name] = version.sha
    _bump_generation()
    st.rerun()


def _history(name: str) -> None:
    store = Store(ws)
    path = prompts.prompt_path(name)
    versions = store.history(path)
    if not versions:
        st.info("This prompt has no saved versions yet.")
        return
    table = pd.DataFrame(
        [
            {
                "version": v.tag,
                "sha": v.short_sha,
                "date": v.date.strftime("%Y-%m-%d %H:%M"),
                "author": v.author,
                "message": v.message,
                "labels": ", ".join(v.labels),
                "deleted": "yes" if v.deleted else "",
            }
            for v in reversed(versions)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    chosen = version_picker(
        "Show a version",
        versions,
        key=state.for_version(state.PROMPT_RESTORE_REF, versions[-1].sha),
    )
    if chosen is None:
        return
    if chosen.deleted:
        st.caption("This version deleted the file.")
        return
    st.code(store.read_version(chosen), language="yaml", line_numbers=True)
    if chosen.sha != versions[-1].sha and st.button(
        f"↩️ Restore {chosen.tag} as a new version", key="prompts.restore"
    ):
        try:
            version = prompts.restore_prompt(name, chosen.sha, workspace=ws)
        except PromptyardError as exc:
            st.error(str(exc))
            return
        st.session_state[state.PROMPT_FLASH] = f"Restored {chosen.tag} as {version.tag}."
        st.session_state.setdefault(state.PROMPT_BASE_SHA, {})[name] = version.sha
        _bump_generation()
        st.rerun()


def _style_rows(frame: pd.DataFrame, kinds: list[str]) -> Any:
    colors = {
        "changed": ("#fff3cd", "#fff3cd"),
        "added": ("", "#d4f7dc"),
        "removed": ("#ffd7d5", ""),
        "equal": ("", ""),
    }

    def paint(row: pd.Series) -> list[str]:
        left, right = colors[kinds[row.name]]
        return [
            "",
            f"background-color: {left}" if left else "",
            "",
            f"background-color: {right}" if right else "",
        ]

    return frame.style.apply(paint, axis=1)


def _diff(name: str) -> None:
    store = Store(ws)
    path = prompts.prompt_path(name)
    versions = store.history(path)
    if len(versions) < 2:
        st.info("A diff needs two versions: save a change first.")
        return
    c1, c2 = st.columns(2)
    with c1:
        a = version_picker(
            "From",
            versions,
            key=state.for_version(state.PROMPT_DIFF_A, versions[-1].sha),
            default_index=len(versions) - 2,
        )
    with c2:
        b = version_picker(
            "To", versions, key=state.for_version(state.PROMPT_DIFF_B, versions[-1].sha)
        )
    if a is None or b is None:
        return
    text_a = "" if a.deleted else store.read_version(a)
    text_b = "" if b.deleted else store.read_version(b)
    rows = side_by_side(text_a, text_b)
    stats = diff_stats(rows)
    st.caption(
        f"{version_label(a)} → {version_label(b)}: {stats['changed']} changed, "
        f"{stats['added']} added, {stats['removed']} removed lines"
    )
    right_name = b.tag if b.tag != a.tag else f"{b.tag} "
    frame = pd.DataFrame(
        {
            "#": [str(r.left_no or "") for r in rows],
            a.tag: [r.left for r in rows],
            "# ": [str(r.right_no or "") for r in rows],
            right_name: [r.right for r in rows],
        }
    )
    st.dataframe(
        _style_rows(frame, [r.kind for r in rows]),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 700),
        column_config={
            "#": st.column_config.TextColumn(width=40),
            "# ": st.column_config.TextColumn(width=40),
            a.tag: st.column_config.TextColumn(width="large"),
            right_name: st.column_config.TextColumn(width="large"),
        },
    )
    with st.expander("Unified diff"):
        st.code(store.diff(path, a.sha, b.sha) or "No changes.", language="diff")


def _labels(name: str) -> None:
    store = Store(ws)
    path = prompts.prompt_path(name)
    versions = store.history(path)
    live = [v for v in versions if not v.deleted]
    if not live:
        st.info("Save a version before labelling it.")
        return
    current = store.labels(path)
    if current:
        st.dataframe(
            pd.DataFrame(
                [
                    {"label": k, "version": v.tag, "sha": v.short_sha, "message": v.message}
                    for k, v in sorted(current.items())
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(
            "No labels yet. `production` is the usual first one: applications load the version it points at."
        )
    with st.form("prompts.label_form"):
        c1, c2 = st.columns(2)
        options = sorted({"production", "staging", *current})
        label = c1.selectbox(
            "Label",
            options,
            key=state.for_version(state.PROMPT_LABEL_NAME, live[-1].sha),
            accept_new_options=True,
        )
        target = c2.selectbox(
            "Version",
            list(reversed(live)),
            format_func=version_label,
            key=state.for_version(state.PROMPT_LABEL_REF, live[-1].sha),
        )
        if st.form_submit_button("🏷️ Move label", type="primary"):
            try:
                prompts.label_prompt(name, target.sha, str(label).strip(), workspace=ws)
            except PromptyardError as exc:
                st.error(str(exc))
            else:
                st.session_state[state.PROMPT_FLASH] = f"{label} now points at {name} {target.tag}."
                st.rerun()
    moves = store.label_moves(path)
    if moves:
        st.markdown("**Label moves**")
        by_sha = {v.sha: v.tag for v in versions}
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "when": m.at.strftime("%Y-%m-%d %H:%M"),
                        "label": m.label,
                        "from": by_sha.get(m.from_sha or "", "—"),
                        "to": by_sha.get(m.to_sha, m.to_sha[:8]),
                        "who": m.who,
                    }
                    for m in reversed(moves)
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _delete(name: str, base_sha: str | None) -> None:
    with st.popover("🗑️ Delete"):
        st.write(f"Delete **{name}**? Its history stays in git and it can be restored.")
        if st.button("Delete prompt", type="primary", key="prompts.delete"):
            try:
                prompts.delete_prompt(name, base=base_sha, workspace=ws)
            except PromptyardError as exc:
                st.error(str(exc))
                return
            st.session_state.pop(state.PROMPT_SELECTED, None)
            st.session_state.get(state.PROMPT_BASE_SHA, {}).pop(name, None)
            st.session_state[state.PROMPT_FLASH] = f"Deleted {name}."
            st.rerun()


with st.sidebar:
    selected = _sidebar_list()


def _edit_base(name: str, history: list[Any]) -> tuple[str, str | None]:
    """The text and sha an edit starts from: pinned when the prompt is opened.

    Pinning keeps an edit in progress when someone else saves meanwhile; the save is then
    refused as a conflict instead of silently replacing their version.
    """
    store = Store(ws)
    path = prompts.prompt_path(name)
    bases = st.session_state.setdefault(state.PROMPT_BASE_SHA, {})
    live = [v for v in history if not v.deleted]
    latest = history[-1] if history else None
    base = next((v for v in live if v.sha == bases.get(name)), None)
    if base is None:
        base = latest if latest is not None and not latest.deleted else None
        bases[name] = base.sha if base else None
    if base is None:
        return store.read(path), None
    if latest is not None and base.sha != latest.sha:
        st.warning(
            f"{name} {latest.tag} was saved by {latest.author} after you started editing"
            f" {base.tag}. Saving now is refused as a conflict.",
            icon="⚠️",
        )
        if st.button(f"Load {latest.tag} (drops your unsaved edit)", key="prompts.reload"):
            bases[name] = latest.sha
            _bump_generation()
            st.rerun()
    return store.read_version(base), base.sha


def _bump_generation() -> None:
    st.session_state[state.PROMPT_GENERATION] = st.session_state.get(state.PROMPT_GENERATION, 0) + 1


_flash()
if selected is not None:
    store = Store(ws)
    path = prompts.prompt_path(selected)
    history = store.history(path)
    latest = history[-1] if history else None
    head, actions = st.columns([5, 1])
    badges = " ".join(f":violet-badge[🏷️ {k}]" for k in sorted(store.labels(path)))
    head.subheader(f"{selected}  :gray-badge[{latest.tag if latest else 'unsaved'}] {badges}")
    try:
        file_text, base_sha = _edit_base(selected, history)
    except PromptyardError as exc:
        st.error(str(exc))
        st.stop()
    with actions:
        _delete(selected, base_sha)
    edit_tab, history_tab, diff_tab, labels_tab = st.tabs(
        ["✏️ Edit", "🕘 History", "↔️ Diff", "🏷️ Labels"]
    )
    with edit_tab:
        _editor(selected, file_text, base_sha)
    with history_tab:
        _history(selected)
    with diff_tab:
        _diff(selected)
    with labels_tab:
        _labels(selected)
