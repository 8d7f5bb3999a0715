"""Rating schemes, ratings with history, and labeling sessions."""

from __future__ import annotations

import threading

import pytest

from promptyard import ratings
from promptyard.errors import NotFoundError, PromptyardError
from promptyard.ratings import RatingError, SchemeError
from promptyard.storage import db
from promptyard.storage.tables import Cell
from promptyard.versioning import ConflictError, Store
from tests.ratings_seed import seed_run


@pytest.fixture
def ws(empty_workspace):  # type: ignore[no-untyped-def]
    ratings.save_schemes(empty_workspace, ratings.DEFAULT_RATINGS_YAML, "Add rating schemes")
    return empty_workspace


def test_default_schemes_have_every_kind_and_instructions(ws) -> None:
    schemes = {s.name: s for s in ratings.load_schemes(ws)}
    assert {s.kind for s in schemes.values()} == {"numeric", "boolean", "categorical", "text"}
    assert schemes["quality"].options == [1, 2, 3, 4, 5]
    assert schemes["issues"].multiple
    assert all(s.instructions for s in schemes.values())


def test_project_ratings_yaml_is_the_default() -> None:
    from pathlib import Path

    shipped = Path(__file__).resolve().parent.parent / "ratings.yaml"
    assert ratings.parse_schemes(shipped.read_text()) == ratings.parse_schemes(
        ratings.DEFAULT_RATINGS_YAML
    )


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "schemes:\n  - name: q\n    kind: numeric\n    min: 5\n    max: 1\n",
            "line 2, scheme #1 (q): field 'max'",
        ),
        ("schemes:\n  - name: q\n    kind: stars\n", "field 'kind' must be one of"),
        (
            "schemes:\n  - name: a\n    kind: text\n  - name: a\n    kind: boolean\n",
            "line 4: scheme name 'a' is used twice",
        ),
        ("schemes:\n  - name: c\n    kind: categorical\n    labels: []\n", "field 'labels'"),
        (
            "schemes:\n  - name: t\n    kind: text\n    labels: [x]\n",
            "'labels' does not apply to a text scheme",
        ),
        ("schemes: [\n", "ratings.yaml, line 2"),
        ("- just a list\n", "expected a mapping with a 'schemes:' list"),
        ("schemes:\n  - name: 9bad\n    kind: text\n", "field 'name'"),
    ],
)
def test_bad_schemes_are_refused_with_where(yaml_text: str, expected: str) -> None:
    with pytest.raises(SchemeError) as info:
        ratings.parse_schemes(yaml_text)
    assert expected in str(info.value)
    assert str(info.value).startswith("ratings.yaml")


def test_save_schemes_commits_and_bad_text_changes_nothing(ws) -> None:
    before = ratings.scheme_version(ws)
    text = ratings.DEFAULT_RATINGS_YAML.replace("max: 5", "max: 10")
    version = ratings.save_schemes(ws, text, "Widen quality to 10", base=before)
    assert version.sha == ratings.scheme_version(ws) != before
    assert ratings.get_scheme(ws, "quality").max == 10
    with pytest.raises(SchemeError):
        ratings.save_schemes(ws, "schemes:\n  - name: x\n    kind: nope\n")
    assert ratings.scheme_version(ws) == version.sha
    assert ws.ratings_file.read_text() == text
    with pytest.raises(ConflictError):  # someone else saved since `before`
        ratings.save_schemes(ws, ratings.DEFAULT_RATINGS_YAML, base=before)


def test_dump_round_trips() -> None:
    schemes = ratings.parse_schemes(ratings.DEFAULT_RATINGS_YAML)
    assert ratings.parse_schemes(ratings.dump_schemes(schemes)) == schemes


def test_rate_cell_records_rater_time_scheme_version_and_score(ws) -> None:
    seeded = seed_run(ws, rows=2)
    rating = ratings.rate_cell(ws, seeded.cell_id(0), "quality", 4, "ann")
    assert rating.rater == "ann"
    assert rating.scheme_version == Store(ws).history("ratings.yaml")[-1].sha
    assert rating.score == 0.75
    assert rating.created_at is not None
    assert ratings.rating_value(rating) == 4
    thumbs = ratings.rate_cell(ws, seeded.cell_id(1), "thumbs", "down", "ann")
    assert ratings.rating_value(thumbs) is False and thumbs.score == 0.0
    issues = ratings.rate_cell(
        ws, seeded.cell_id(1), "issues", ["too long", "hallucination"], "ann"
    )
    assert ratings.rating_value(issues) == ["hallucination", "too long"]  # scheme order
    note = ratings.rate_cell(ws, seeded.cell_id(1), "comment", "  needs the order number ", "ann")
    assert ratings.rating_value(note) == "needs the order number"


@pytest.mark.parametrize(
    ("scheme", "value", "message"),
    [
        ("quality", 6, "6 is out of range 1 to 5"),
        ("quality", 0, "out of range"),
        ("quality", 2.5, "not a multiple of step"),
        ("quality", "great", "takes a number"),
        ("quality", True, "takes a number"),
        ("thumbs", "maybe", "thumbs up or down"),
        ("issues", "typo", "has no label 'typo'"),
        ("issues", [], "pick at least one label"),
        ("comment", "   ", "non-empty text"),
        ("stars", 3, "unknown rating scheme 'stars'"),
    ],
)
def test_bad_ratings_are_refused_and_nothing_is_stored(ws, scheme, value, message) -> None:
    seeded = seed_run(ws, rows=1)
    with pytest.raises(RatingError) as info:
        ratings.rate_cell(ws, seeded.cell_id(0), scheme, value, "ann")
    assert message in str(info.value)
    assert ratings.current_ratings(ws, seeded.run_id) == []


def test_rating_a_missing_cell_or_without_a_name_is_refused(ws) -> None:
    seeded = seed_run(ws, rows=1)
    with pytest.raises(NotFoundError, match="cell 999999 does not exist"):
        ratings.rate_cell(ws, 999_999, "quality", 3, "ann")
    with pytest.raises(RatingError, match="rater's name is empty"):
        ratings.rate_cell(ws, seeded.cell_id(0), "quality", 3, "  ")
    assert ratings.current_ratings(ws, seeded.run_id) == []


def test_a_changed_rating_keeps_its_history(ws) -> None:
    seeded = seed_run(ws, rows=1)
    cell = seeded.cell_id(0)
    first = ratings.rate_cell(ws, cell, "quality", 2, "ann")
    second = ratings.rate_cell(ws, cell, "quality", 5, "ann", comment="misread it")
    history = ratings.rating_history(ws, cell, "quality")
    assert [ratings.rating_value(r) for r in history] == [2, 5]
    assert history[0].id == first.id and history[0].superseded_by == second.id
    assert history[1].superseded_by is None and history[1].comment == "misread it"
    current = ratings.current_ratings(ws, seeded.run_id, "quality")
    assert [ratings.rating_value(r) for r in current] == [5]


def test_two_raters_on_the_same_cell_at_once_are_both_kept(ws) -> None:
    seeded = seed_run(ws, rows=1)
    cell = seeded.cell_id(0)
    errors: list[Exception] = []

    def rate(name: str, value: int) -> None:
        try:
            ratings.rate_cell(ws, cell, "quality", value, name)
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=rate, args=(n, v)) for n, v in (("ann", 2), ("bob", 4))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    current = ratings.current_ratings(ws, seeded.run_id, "quality")
    assert sorted((r.rater, ratings.rating_value(r)) for r in current) == [("ann", 2), ("bob", 4)]
    assert ratings.rating_counts(ws, seeded.run_id)["quality"] == 2


def test_rating_a_deleted_cell_is_refused(ws) -> None:
    seeded = seed_run(ws, rows=2)
    gone = seeded.cell_id(1)

    def _delete(s):  # type: ignore[no-untyped-def]
        s.delete(s.get(Cell, gone))

    db.write(ws, _delete)
    with pytest.raises(NotFoundError, match=f"cell {gone} does not exist"):
        ratings.rate_cell(ws, gone, "thumbs", True, "ann")


def test_export_ratings_csv_and_jsonl(ws) -> None:
    import csv
    import io
    import json

    seeded = seed_run(ws, rows=2)
    ratings.rate_cell(ws, seeded.cell_id(0), "quality", 2, "ann")
    ratings.rate_cell(ws, seeded.cell_id(0), "quality", 3, "ann")
    ratings.rate_cell(ws, seeded.cell_id(1, 1), "issues", ["off-topic"], "bob")
    rows = list(csv.DictReader(io.StringIO(ratings.export_ratings(ws, seeded.run_id, "csv"))))
    assert [(r["rater"], r["scheme"], r["value"]) for r in rows] == [
        ("ann", "quality", "3"),
        ("bob", "issues", '["off-topic"]'),
    ]
    assert rows[0]["scheme_version"] == ratings.scheme_version(ws)
    lines = ratings.export_ratings(ws, seeded.run_id, "jsonl", history=True).splitlines()
    assert [json.loads(x)["value"] for x in lines] == [2, 3, ["off-topic"]]
    assert json.loads(lines[0])["superseded_by"] == json.loads(lines[1])["rating_id"]
    with pytest.raises(PromptyardError, match="unknown export format"):
        ratings.export_ratings(ws, seeded.run_id, "xml")
    with pytest.raises(NotFoundError, match="run 999 does not exist"):
        ratings.export_ratings(ws, 999)


# --- labeling sessions ------------------------------------------------------------------


def test_session_serves_each_cell_until_k_raters_and_resumes(ws) -> None:
    seeded = seed_run(ws, rows=3, errors=[(2, 1)])  # 6 cells, one failed: 5 to rate
    sess = ratings.open_session(ws, seeded.run_id, "rate", "quality", raters_per_cell=2)
    assert ratings.open_session(ws, seeded.run_id, "rate", "quality").id == sess.id  # joins

    seen = []
    item = ratings.next_cell(ws, sess.id, "ann")
    while item is not None:
        seen.append(item.cell_id)
        ratings.rate_cell(ws, item.cell_id, "quality", 3, "ann", session_id=sess.id)
        if len(seen) == 2:
            break  # ann leaves half-way ...
        item = ratings.next_cell(ws, sess.id, "ann")
    progress = ratings.session_progress(ws, sess.id, "ann")
    assert (progress.total, progress.rated_by_me, progress.remaining_for_me) == (5, 2, 3)
    resumed = ratings.next_cell(ws, sess.id, "ann")  # ... and comes back to the third cell
    assert resumed is not None and resumed.cell_id not in seen
    assert resumed.output and resumed.inputs["ticket"].startswith("Ticket")
    assert seeded.cell_id(2, 1) not in seen  # the failed cell is never served

    bob_first = ratings.next_cell(ws, sess.id, "bob")
    assert bob_first is not None and bob_first.cell_id == seen[0]  # k=2: bob rates them too
    ratings.rate_cell(ws, bob_first.cell_id, "quality", 4, "bob", session_id=sess.id)
    assert ratings.session_progress(ws, sess.id, "bob").complete == 1
    # with k=2 reached, a third rater is not served that cell
    carol = ratings.next_cell(ws, sess.id, "carol")
    assert carol is not None and carol.cell_id != bob_first.cell_id


def test_session_skip_back_and_change(ws) -> None:
    seeded = seed_run(ws, rows=3)
    sess = ratings.open_session(ws, seeded.run_id, "rate", "thumbs")
    first = ratings.next_cell(ws, sess.id, "ann")
    assert first is not None
    skipped = ratings.next_cell(ws, sess.id, "ann", skip=[first.cell_id])
    assert skipped is not None and skipped.cell_id != first.cell_id
    ratings.rate_cell(ws, skipped.cell_id, "thumbs", True, "ann", session_id=sess.id)
    third = ratings.next_cell(ws, sess.id, "ann", skip=[first.cell_id])
    assert third is not None
    back = ratings.previous_cell(ws, sess.id, "ann", third.cell_id)
    assert back is not None and back.cell_id == skipped.cell_id and back.value is True
    ratings.rate_cell(ws, back.cell_id, "thumbs", False, "ann", session_id=sess.id)
    assert ratings.session_item(ws, sess.id, "ann", back.cell_id).value is False
    assert ratings.previous_cell(ws, sess.id, "ann", back.cell_id) is None  # nothing before
    # the skipped cell comes back once the skip list is gone (a new visit)
    assert ratings.next_cell(ws, sess.id, "ann").cell_id == first.cell_id  # type: ignore[union-attr]


def test_session_ends_when_everything_is_rated(ws) -> None:
    seeded = seed_run(ws, rows=1, variants=[("p", 1, "m")])
    sess = ratings.open_session(ws, seeded.run_id, "rate", "quality")
    item = ratings.next_cell(ws, sess.id, "ann")
    assert item is not None
    ratings.rate_cell(ws, item.cell_id, "quality", 5, "ann", session_id=sess.id)
    assert ratings.next_cell(ws, sess.id, "ann") is None
    assert ratings.session_progress(ws, sess.id, "ann").fraction == 1.0


def test_session_needs_a_known_run_and_scheme(ws) -> None:
    with pytest.raises(NotFoundError, match="run 42 does not exist"):
        ratings.open_session(ws, 42, "rate", "quality")
    seeded = seed_run(ws, rows=1)
    with pytest.raises(RatingError, match="unknown rating scheme"):
        ratings.open_session(ws, seeded.run_id, "rate", "stars")


# --- kinds: a registry of classes ---------------------------------------------------------


def test_each_kind_is_a_registered_class() -> None:
    from promptyard.ratings.kinds import KINDS_BY_NAME

    assert ratings.KINDS == ("numeric", "boolean", "categorical", "text")
    schemes = {s.name: s for s in ratings.parse_schemes(ratings.DEFAULT_RATINGS_YAML)}
    for scheme in schemes.values():
        assert scheme.spec is KINDS_BY_NAME[scheme.kind] is ratings.kind_of(scheme.kind)
        assert scheme.kind == ratings.RatingKind(scheme.kind)
    assert ratings.kind_of("boolean").coerce("thumbs down") is False
    assert ratings.kind_of("numeric").coerce(" 4 ") == 4.0
    assert ratings.kind_of("numeric").coerce(True) is None


def test_a_registered_kind_is_parsed_validated_and_described() -> None:
    from promptyard.ratings.kinds import KINDS_BY_NAME

    @ratings.register_kind
    class Stars(ratings.Kind):
        name = "stars"

        def validate(self, scheme, value):  # type: ignore[no-untyped-def]
            if value not in (1, 2, 3):
                raise ratings.RatingError(f"scheme {scheme.name!r} takes 1 to 3 stars")
            return value

        def describe(self, scheme):  # type: ignore[no-untyped-def]
            return "one to three stars"

    try:
        [scheme] = ratings.parse_schemes("schemes:\n  - name: s\n    kind: stars\n")
        assert scheme.describe() == "one to three stars" and scheme.validate_value(2) == 2
        with pytest.raises(RatingError, match="1 to 3 stars"):
            scheme.validate_value(4)
        with pytest.raises(SchemeError, match="'min' does not apply to a stars scheme"):
            ratings.parse_schemes("schemes:\n  - name: s\n    kind: stars\n    min: 1\n")
    finally:
        del KINDS_BY_NAME["stars"]
    with pytest.raises(SchemeError, match="field 'kind' must be one of"):
        ratings.parse_schemes("schemes:\n  - name: s\n    kind: stars\n")


def test_numeric_schemes_are_ordinal_unless_ratings_yaml_says_otherwise() -> None:
    schemes = {s.name: s for s in ratings.parse_schemes(ratings.DEFAULT_RATINGS_YAML)}
    assert schemes["quality"].level == "ordinal"  # Likert 1-5
    assert (schemes["thumbs"].level, schemes["issues"].level) == ("nominal", "nominal")
    assert schemes["comment"].level == "none"
    assert "level" not in ratings.dump_schemes(list(schemes.values()))
    wide = "schemes:\n  - name: score\n    kind: numeric\n    min: 0\n    max: 100\n    level: interval\n"
    [scheme] = ratings.parse_schemes(wide)
    assert scheme.level == "interval"
    assert ratings.parse_schemes(ratings.dump_schemes([scheme])) == [scheme]
    with pytest.raises(SchemeError, match="line 2, scheme #1 \\(score\\): field 'level' must be"):
        ratings.parse_schemes(wide.replace("interval", "nominal"))
    with pytest.raises(SchemeError, match="'level' does not apply to a text scheme"):
        ratings.parse_schemes("schemes:\n  - name: t\n    kind: text\n    level: ordinal\n")
