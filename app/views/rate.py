"""Rate: focused labeling sessions, blind pairwise comparisons, agreement between raters."""

from __future__ import annotations

import state
import streamlit as st
from components.context import workspace
from components.labeling import keep_rater_name, labeling_fragment, remember_rater_name
from components.output_cell import escape_markdown, show_text
from components.rater import assignment_panel, finetune_button, rater_field
from components.signin import may, may_or_say, may_rate_or_say

from promptyard import ratings
from promptyard.errors import PromptyardError
from promptyard.ratings import Pair, RatingScheme, SchemeAgreement, SessionItem
from promptyard.reading.compare import columns_for
from promptyard.runs import list_runs
from promptyard.team import Permission

ws = workspace()
st.title("⭐ Rate")

MODES = ["Rate cells", "Blind pairs", "Agreement"]


def _flash() -> None:
    flash = st.session_state.pop(state.RATE_FLASH, None)
    if flash:
        kind, message = flash
        (st.error if kind == "error" else st.toast)(message)


runs = list_runs(ws, kind=None)
if not runs:
    st.info("No runs yet. Start one on the Runs page, then come back to rate its outputs.")
    st.stop()
by_id = {r.run_id: r for r in runs}
if st.session_state.get(state.RATE_RUN) not in by_id:
    st.session_state[state.RATE_RUN] = runs[0].run_id

top = st.columns([3, 2])
run_id = top[0].selectbox(
    "Run",
    list(by_id),
    key=state.RATE_RUN,
    format_func=lambda r: (
        f"#{r} {by_id[r].name or 'run'} · {by_id[r].dataset or 'no dataset'} · {by_id[r].cells:,} cells"
    ),
)
with top[1]:
    keep_rater_name()
    rater = rater_field()
    remember_rater_name(rater)
mode = st.segmented_control("Mode", MODES, default=MODES[0], key=state.RATE_MODE) or MODES[0]
if mode != MODES[0]:  # labeling shows its own progress, redrawn with every key
    counts = ratings.rating_counts(ws, run_id)
    st.caption(
        "In this run: "
        + (" · ".join(f"{name} {n}" for name, n in counts.items() if n) or "no ratings yet")
    )
_flash()
assignment_panel(ws, run_id)


def _rate_cells(rater: str) -> None:
    schemes = {s.name: s for s in ratings.load_schemes(ws)}
    if not schemes:
        st.info("No rating schemes: add some on the Settings page.")
        return
    if st.session_state.get(state.RATE_SCHEME) not in schemes:
        st.session_state[state.RATE_SCHEME] = next(iter(schemes))
    scheme_name = st.selectbox(
        "Scheme",
        list(schemes),
        key=state.RATE_SCHEME,
        format_func=lambda n: f"{n} ({schemes[n].describe()})",
    )
    scheme: RatingScheme = schemes[scheme_name]
    session = ratings.find_session(ws, run_id, "rate", scheme.name)
    if session is None:
        if not may_or_say(Permission.MANAGE_SESSIONS, "open labeling sessions"):
            return
        k = st.number_input(
            "Raters per cell",
            min_value=1,
            max_value=10,
            value=1,
            key=state.RATE_K,
            help="Each cell is served until this many people rated it",
        )
        if st.button("Start labeling session", type="primary", key="rate.start"):
            try:
                ratings.open_session(ws, run_id, "rate", scheme.name, int(k), created_by=rater)
                st.rerun()
            except PromptyardError as exc:
                st.error(str(exc))
        return
    assert session.id is not None
    st.caption(f"Session #{session.id} · {session.raters_per_cell} rater(s) per cell")
    if may_rate_or_say(session.id):
        labeling_fragment(ws, session.id, scheme, rater)


def _vote(pair: Pair, side: str, session_id: int, rater: str) -> None:
    try:
        ratings.record_vote(ws, pair, pair.choice_for(side), rater, session_id)
    except PromptyardError as exc:
        st.session_state[state.RATE_FLASH] = ("error", str(exc))


def _pair_votes(session_id: int, rater: str) -> None:
    skipped = st.session_state.setdefault(state.RATE_PAIR_SKIPPED, [])
    pair = ratings.next_pair(ws, session_id, rater, skip=skipped)
    done, total = ratings.pairwise_progress(ws, session_id, rater)
    st.progress(done / total if total else 1.0, text=f"You voted on {done:,} of {total:,} pairs")
    if pair is None:
        st.success("No pairs left for you in this session.")
    else:
        item = SessionItem(0, pair.row_id, pair.inputs, pair.reference, None)
        for name, value in item.inputs.items():
            st.caption(escape_markdown(str(name)))
            show_text(
                value if isinstance(value, str) else repr(value), key=f"pin{name}", collapse_at=1500
            )
        if pair.reference:
            st.caption("reference")
            show_text(pair.reference, key="pref", collapse_at=1500)
        left, right = st.columns(2)
        with left.container(border=True):
            st.markdown("**Left**")
            show_text(pair.left, key="left", collapse_at=4000)
        with right.container(border=True):
            st.markdown("**Right**")
            show_text(pair.right, key="right", collapse_at=4000)
        st.caption(
            "**Keys:** `←` left is better · `→` right is better · `T` tie · `B` both bad · `S` skip"
        )
        b = st.columns([3, 3, 2, 2, 2])
        b[0].button(
            "Left is better",
            key="rate.vote_left",
            shortcut="Left",
            icon=":material/arrow_back:",
            on_click=_vote,
            args=(pair, "left", session_id, rater),
            type="primary",
        )
        b[1].button(
            "Right is better",
            key="rate.vote_right",
            shortcut="Right",
            icon=":material/arrow_forward:",
            on_click=_vote,
            args=(pair, "right", session_id, rater),
            type="primary",
        )
        b[2].button(
            "Tie",
            key="rate.vote_tie",
            shortcut="T",
            icon=":material/drag_handle:",
            on_click=_vote,
            args=(pair, "tie", session_id, rater),
        )
        b[3].button(
            "Both bad",
            key="rate.vote_both_bad",
            shortcut="B",
            icon=":material/thumb_down:",
            on_click=_vote,
            args=(pair, "both_bad", session_id, rater),
        )
        if b[4].button("Skip", key="rate.pair_skip", icon=":material/skip_next:", shortcut="S"):
            skipped.append(pair.row_id)
            st.rerun()


def _blind_pairs(rater: str) -> None:
    summary = by_id[run_id]
    columns = {c.variant_id: c.label for c in columns_for(ws, [run_id])}
    if len(columns) < 2:
        st.info("Blind pairs need a run with at least two variants.")
        return
    chosen = [v for v in st.session_state.get(state.RATE_PAIR_CHOSEN) or [] if v in columns]
    if len(chosen) < 2:
        chosen = list(columns)[:2]
    session = ratings.find_session(ws, run_id, "pairwise", variant_ids=chosen)
    if session is None or st.session_state.get(state.RATE_PAIR_PICKING):
        if not may_or_say(Permission.MANAGE_SESSIONS, "open labeling sessions"):
            return
        picked = st.multiselect(
            "Variants to compare",
            list(columns),
            default=chosen,
            format_func=lambda v: columns[v],
            key=state.RATE_PAIR_VARIANTS,
            help="Names are hidden while you vote; the results reveal them",
        )
        if len(picked) < 2:
            st.info("Pick two or more variants.")
            return
        if st.button("Start blind session", type="primary", key="rate.pair_start"):
            try:
                ratings.open_session(
                    ws, run_id, "pairwise", variant_ids=picked, seed=run_id, created_by=rater
                )
                st.session_state[state.RATE_PAIR_CHOSEN] = list(picked)
                st.session_state[state.RATE_PAIR_PICKING] = False
                st.rerun()
            except PromptyardError as exc:
                st.error(str(exc))
        return
    head = st.columns([4, 1])
    head[0].caption(
        f"Blind session #{session.id} over {len(chosen)} variants: which is which stays "
        "hidden until you open the results."
    )
    if may(Permission.MANAGE_SESSIONS) and head[1].button(
        "Change variants", key="rate.pair_change"
    ):
        st.session_state[state.RATE_PAIR_PICKING] = True
        st.rerun()
    assert session.id is not None
    if may_rate_or_say(session.id):
        _pair_votes(session.id, rater)
    with st.expander("Results so far (reveals the variants)"):
        standings = ratings.pairwise_results(ws, summary.run_id, session.id)
        if not standings:
            st.caption("No votes yet.")
        else:
            st.dataframe(
                [
                    {
                        "variant": s.label,
                        "comparisons": s.comparisons,
                        "wins": s.wins,
                        "losses": s.losses,
                        "ties": s.ties,
                        "both bad": s.both_bad,
                        "win rate": f"{s.win_rate:.0%}",
                        "95% CI": _interval(s.ci_low, s.ci_high),
                        "Bradley-Terry": round(s.bt_elo),
                    }
                    for s in standings
                ],
                hide_index=True,
            )


UNDEFINED = "—"
STATISTICS = {
    "Cohen's κ": "cohen_kappa",
    "Fleiss' κ": "fleiss_kappa",
    "Krippendorff's α": "krippendorff_alpha",
}


def _interval(low: float | None, high: float | None) -> str:
    return UNDEFINED if low is None or high is None else f"{low:.0%} – {high:.0%}"


def _statistic(report: SchemeAgreement, name: str) -> str:
    value = getattr(report, name)
    return UNDEFINED if value is None else f"{value:.3f}"


def _why_undefined(report: SchemeAgreement) -> str:
    """The library's reasons for each "—" of a report's row, one when they are all alike."""
    why = {
        label: report.reasons[name]
        for label, name in STATISTICS.items()
        if getattr(report, name) is None and name in report.reasons
    }
    if len(set(why.values())) == 1 and len(why) == len(STATISTICS):
        return next(iter(why.values()))
    return "; ".join(f"{label}: {reason}" for label, reason in why.items())


def _agreement() -> None:
    reports = ratings.run_agreement(ws, run_id)
    if not reports:
        st.info("No ratings in this run yet.")
        return
    st.dataframe(
        [
            {
                "scheme": r.scheme,
                "raters": len(r.raters),
                "cells rated": r.cells_rated,
                "cells with 2+ raters": r.cells_shared,
                "method": r.method if r.cells_shared else UNDEFINED,
                **{label: _statistic(r, name) for label, name in STATISTICS.items()},
                "why —": _why_undefined(r),
            }
            for r in reports
        ],
        hide_index=True,
        column_config={
            label: st.column_config.TextColumn(
                help=f"{UNDEFINED}: undefined here; the column 'why —' says why"
            )
            for label in STATISTICS
        }
        | {"why —": st.column_config.TextColumn(help="Why a statistic of the row is undefined")},
    )
    notes = [f"{r.scheme}: {_why_undefined(r)}" for r in reports if _why_undefined(r)]
    if notes:
        st.caption(
            f"{UNDEFINED} marks agreement that is undefined (hover for why).",
            help="\n\n".join(escape_markdown(n) for n in notes),
        )
    for r in reports:
        if r.disputed:
            st.markdown(f"**Most disputed: {escape_markdown(r.scheme)}**")
            st.dataframe(
                [
                    {
                        "cell": d.cell_id,
                        "row": d.row_id,
                        "variant": d.variant,
                        "dispute": round(d.dispute, 2),
                        "values": ", ".join(f"{k}: {v}" for k, v in d.values.items()),
                    }
                    for d in r.disputed
                ],
                hide_index=True,
            )


if mode == "Agreement":
    _agreement()
elif not rater:
    st.info("Type your name above to start rating.")
elif mode == "Rate cells":
    _rate_cells(rater)
else:
    _blind_pairs(rater)
finetune_button(ws, [run_id], "rate")
