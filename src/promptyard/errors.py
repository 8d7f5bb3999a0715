"""The exceptions a caller can catch; every message says what and where."""

from __future__ import annotations


class PromptyardError(Exception):
    """Base of every error Promptyard raises on bad input or a bad state.

    Its message is one line a person can act on; the CLI prints it on stderr and the app
    shows it next to what caused it.
    """


class NotFoundError(PromptyardError):
    """A prompt, dataset, version, label, run or cell that does not exist."""
