"""Git through gitpython: save = commit, history, diffs, restore, labels, conflicts."""
