"""The errors of human ratings."""

from __future__ import annotations

from promptyard.errors import PromptyardError


class SchemeError(PromptyardError):
    """ratings.yaml is malformed: the message names the file, the line and the field."""


class RatingError(PromptyardError):
    """A rating that cannot be stored: unknown scheme, value out of range, bad rater."""
