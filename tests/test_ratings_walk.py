"""Walking a labeling session: cells skipped for later, forward through history, undo."""

from __future__ import annotations

from promptyard import ratings
from tests.ratings_seed import seed_run


def test_undo_of_a_changed_rating_puts_the_earlier_one_back_in_force(workspace) -> None:
    seeded = seed_run(workspace, rows=1)
    sess = ratings.open_session(workspace, seeded.run_id, "rate", "quality")
    assert sess.id is not None
    cell = seeded.cell_id(0, 0)
    ratings.rate_cell(workspace, cell, "quality", 4, "ann", session_id=sess.id)
    ratings.rate_cell(workspace, cell, "quality", 2, "ann", session_id=sess.id)
    assert ratings.undo_last_rating(workspace, sess.id, "ann") == cell
    [in_force] = ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann")
    assert ratings.rating_value(in_force) == 4
    assert ratings.undo_last_rating(workspace, sess.id, "ann") == cell
    assert ratings.current_ratings(workspace, seeded.run_id, "quality", rater="ann") == []
    assert ratings.undo_last_rating(workspace, sess.id, "ann") is None
    assert ratings.undo_last_rating(workspace, sess.id, "bob") is None


def test_cells_for_later_come_after_every_other_due_cell_in_skip_order(workspace) -> None:
    seeded = seed_run(workspace, rows=2)
    sess = ratings.open_session(workspace, seeded.run_id, "rate", "quality")
    assert sess.id is not None
    first, second = seeded.cell_id(0, 0), seeded.cell_id(0, 1)
    item = ratings.next_cell(workspace, sess.id, "ann", later=[second, first])
    assert item is not None and item.cell_id == seeded.cell_id(1, 0)
    for i in (0, 1):
        ratings.rate_cell(workspace, seeded.cell_id(1, i), "quality", 3, "ann", session_id=sess.id)
    item = ratings.next_cell(workspace, sess.id, "ann", later=[second, first])
    assert item is not None and item.cell_id == second  # skipped first, served first
    ratings.rate_cell(workspace, second, "quality", 3, "ann", session_id=sess.id)
    assert ratings.following_cell(workspace, sess.id, "ann", seeded.cell_id(1, 0)) is not None
    assert ratings.following_cell(workspace, sess.id, "ann", second) is None
    item = ratings.next_cell(workspace, sess.id, "ann", later=[second, first])
    assert item is not None and item.cell_id == first


def test_scheme_version_follows_every_commit_of_ratings_yaml(workspace) -> None:
    import subprocess

    from promptyard.versioning.store import Store

    def truth() -> str:
        return Store(workspace).history(ratings.RATINGS_FILE)[-1].sha

    first = ratings.scheme_version(workspace)
    assert ratings.scheme_version(workspace) == first  # remembered, same answer
    text = ratings.ratings_text(workspace).replace("name: thumbs", "name: ship")
    ratings.save_schemes(workspace, text, "rename thumbs")
    second = ratings.scheme_version(workspace)
    assert second != first and second == truth()
    # a commit made outside Promptyard, by git itself
    path = workspace.ratings_file
    path.write_text(path.read_text() + "\n# a note\n")
    subprocess.run(["git", "commit", "-qam", "note"], cwd=workspace.root, check=True)
    assert ratings.scheme_version(workspace) == truth() != second
