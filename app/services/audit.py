"""Audit trail writer. Adds to the session; the calling command commits."""
from __future__ import annotations

from typing import Any, Optional

from app.extensions import db
from app.models import AuditLog


def record(by: Any, action: str, obj: Any = None, detail: Optional[str] = None) -> None:
    db.session.add(
        AuditLog(
            user_id=getattr(by, "id", None),
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=getattr(obj, "id", None),
            detail=detail,
        )
    )
