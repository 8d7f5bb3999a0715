"""Perturbations: each kind changes how a text is typed, not what it says; seeded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from promptyard.robustness import (
    KEYBOARD_NEIGHBOURS,
    LOCAL_KINDS,
    PerturbationError,
    PerturbationKind,
    normalise,
    parse_kinds,
    perturb_rows,
    perturb_text,
    rng_for,
    synonym_table,
    variant_row_id,
)

ROOT = Path(__file__).resolve().parent.parent


def _rows() -> list[dict[str, str]]:
    lines = (ROOT / "datasets" / "tickets.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_the_same_seed_gives_the_same_variants_and_another_seed_others() -> None:
    rows = _rows()
    first = perturb_rows(rows, ["message"], LOCAL_KINDS, seed=11)
    again = perturb_rows(rows, ["message"], LOCAL_KINDS, seed=11)
    other = perturb_rows(rows, ["message"], LOCAL_KINDS, seed=12)
    assert [v.row for v in first.rows] == [v.row for v in again.rows]
    assert [v.row["message"] for v in first.rows] != [v.row["message"] for v in other.rows]
    # A row's variants do not depend on which other rows are in the slice.
    alone = perturb_rows(rows[5:6], ["message"], LOCAL_KINDS, seed=11)
    assert [v.row for v in alone.rows] == [
        v.row for v in first.rows if v.original_id == rows[5]["id"]
    ]


def test_every_variant_keeps_the_other_columns_and_names_its_original() -> None:
    rows = _rows()[:3]
    made = perturb_rows(rows, ["message"], LOCAL_KINDS, seed=1)
    for variant in made.rows:
        original = next(r for r in rows if r["id"] == variant.original_id)
        assert variant.row_id == variant_row_id(original["id"], variant.kind)
        assert variant.row["message"] != original["message"]
        for column in ("customer_name", "product", "expected"):
            assert variant.row[column] == original[column]


def test_case_punctuation_and_whitespace_leave_the_words_alone() -> None:
    text = "I was charged twice for order #55102 on the 4th. Can you refund 2.5 EUR?"
    words = re.findall(r"[\w#.]+\w", text.lower())
    for kind in ("case", "whitespace"):
        new = perturb_text(text, kind, rng_for(0, "r", kind, "c"))
        assert new is not None and new != text
        assert normalise(new) == normalise(text)
    new = perturb_text(text, "punctuation", rng_for(3, "r", "punctuation", "c"))
    assert new is not None and new != text
    # Marks inside tokens (a decimal point, an order number) survive.
    assert "2.5" in new and "#55102" in new
    assert re.findall(r"[\w#.]+\w", new.lower()) == words or normalise(new) == normalise(text)


def test_typos_swap_letters_for_neighbouring_keys_at_the_set_rate() -> None:
    text = "the lamp stopped connecting after the last firmware update " * 4
    new = perturb_text(text, "typos", rng_for(0, "r", "typos", "c"), typo_rate=0.1)
    assert new is not None and len(new) == len(text)
    changed = [(a, b) for a, b in zip(text, new, strict=True) if a != b]
    letters = sum(c.isalpha() for c in text)
    assert 0 < len(changed) <= round(0.1 * letters)
    assert all(b in KEYBOARD_NEIGHBOURS[a] for a, b in changed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I ordered a standing desk on March 3rd.", "On March 3rd, I ordered a standing desk."),
        ("On Tuesday, the council voted 7 to 2.", "The council voted 7 to 2 on Tuesday."),
        ("Please send me the invoice and receipt.", "Please send me the receipt and invoice."),
    ],
)
def test_word_order_moves_phrases_where_the_meaning_survives(text: str, expected: str) -> None:
    assert perturb_text(text, "word-order", rng_for(0, "r", "word-order", "c")) == expected


def test_word_order_leaves_a_text_it_cannot_reorder_and_says_so() -> None:
    # "in it" is not a time or place phrase; moving it would change the sentence.
    assert perturb_text("I put the cable in it.", "word-order", rng_for(0, "r", "w", "c")) is None


def test_synonyms_come_from_the_shipped_list_and_keep_capitals() -> None:
    table = synonym_table()
    assert "quickly" in table and len(table) > 50
    new = perturb_text("Quickly fix the problem", "synonyms", rng_for(0, "r", "s", "c"))
    assert new is not None and new != "Quickly fix the problem"
    assert new[0].isupper()


def test_a_kind_that_cannot_apply_skips_the_row_and_counts_it() -> None:
    rows = [
        {"id": "a", "text": "12345 678"},  # no letters: case, typos, synonyms cannot apply
        {"id": "b", "text": "Ship it fast and cheap."},
        {"id": "c", "text": 42},  # not text at all
    ]
    made = perturb_rows(rows, ["text"], LOCAL_KINDS, seed=0)
    made_ids = {v.row_id for v in made.rows}
    assert "a~case" not in made_ids and "a~typos" not in made_ids and "a~synonyms" not in made_ids
    assert "a~whitespace" in made_ids
    assert not any(i.startswith("c~") for i in made_ids)
    assert made.skipped["case"] == 2 and made.skipped["typos"] == 2
    assert made.skipped["word-order"] == 2  # only "fast and cheap" reorders
    assert "b~word-order" in made_ids
    assert made.rows[[v.row_id for v in made.rows].index("b~word-order")].row["text"] == (
        "Ship it cheap and fast."
    )


def test_kinds_parse_from_the_command_line_and_unknown_ones_are_named() -> None:
    assert parse_kinds("case, typos,word-order") == [
        PerturbationKind.CASE,
        PerturbationKind.TYPOS,
        PerturbationKind.WORD_ORDER,
    ]
    assert parse_kinds(None) == list(PerturbationKind)
    with pytest.raises(PerturbationError, match="unknown perturbation 'typo'"):
        parse_kinds("case,typo")
    with pytest.raises(PerturbationError, match="typo rate"):
        perturb_rows([{"id": "a", "t": "x"}], ["t"], typo_rate=2)


def test_normalise_ignores_case_spacing_and_edge_punctuation() -> None:
    assert normalise("  Hello,   World! ") == normalise("hello world")
    assert normalise("Total: 2.5 EUR") != normalise("Total: 25 EUR")
