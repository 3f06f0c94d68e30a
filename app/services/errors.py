"""Named exceptions carrying a French message. Views turn them into form errors or flashes,
the API into JSON {"message": ...} with the status code below."""
from __future__ import annotations

from typing import Optional


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class RuleError(ServiceError):
    """A business rule refuses the input (HTTP 400)."""

    status = 400


class ForbiddenError(ServiceError):
    """The role may not do this (HTTP 403)."""

    status = 403


class ConflictError(ServiceError):
    """Concurrent change or duplicate (HTTP 409)."""

    status = 409
