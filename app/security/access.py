"""Role checks used by services: the permission matrix, read for one user."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from app.services.errors import ForbiddenError

from . import matrix
from . import roles as R


def can(user: Any, resource: str, right: str) -> bool:
    if user is None:  # system (CLI, jobs)
        return True
    if R.is_technical_admin(user):
        return True
    return matrix.allowed(R.role_of(user), resource, right)


def ensure_can(user: Any, resource: str, right: str) -> None:
    if not can(user, resource, right):
        raise ForbiddenError(_("Votre rôle ne permet pas cette action."))


def is_national(user: Any) -> bool:
    """Certif Pro (or system / technical admin): the only ones who change "actif"."""
    if user is None or R.is_technical_admin(user):
        return True
    return R.role_of(user) is R.CERTIF_PRO
