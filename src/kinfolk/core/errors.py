"""Errors that services raise, each carrying a message a user can read.

Views turn them into form errors (``field`` names the form field) or 4xx pages (``status``).
"""

from __future__ import annotations


class KinfolkError(Exception):
    """Base of every service error: a readable message, an optional field and a machine code."""

    status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        errors: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code
        # Several fields at once (an address); ``field``/``message`` hold the first of them.
        self.errors = errors or ({field: message} if field else {})

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(KinfolkError):
    """The input breaks a rule; the user can correct it."""


class NotFound(KinfolkError):
    status = 404
    default_code = "not_found"


class Forbidden(KinfolkError):
    status = 403
    default_code = "forbidden"


class Conflict(KinfolkError):
    """The input was fine but the state of things refuses it (sold out, already paid, ...)."""

    status = 409
    default_code = "conflict"


class OutOfStock(Conflict):
    default_code = "out_of_stock"


class InvalidTransition(Conflict):
    default_code = "invalid_transition"
