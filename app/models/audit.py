"""Audit journal: who did what to which object, when, from where, what changed (before →
after). Append-only and hash-chained: each row carries the previous row's hash, and its own
hash covers the row's fields and a digest of its personal text (so that de-identifying a row
later keeps the chain verifiable). How a row is hashed lives here, next to the columns it
reads, so that the migration backfilling old rows and `flask clea audit-verify` agree."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

GENESIS = ""  # prev_hash of the first row


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_objet", "object_type", "object_id"),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"),
                                                   index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[Optional[int]] = mapped_column(Integer)
    detail: Mapped[Optional[str]] = mapped_column(Text)
    # The acting user as they were named when the row was written (« Prénom Nom (login) »),
    # so the row stays readable whatever happens to the account.
    user_name: Mapped[Optional[str]] = mapped_column(String(255))
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(255))
    # {field: [before, after]} as JSON text
    changes: Mapped[Optional[str]] = mapped_column(Text)
    # The dossier and the person the row is about (no foreign key: the journal outlives them);
    # the dossier's history tab and the de-identification find their rows through them.
    candidature_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    candidat_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    # sha256 of the personal text (detail, changes, user_name, ip, user_agent) as written
    contenu_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    prev_hash: Mapped[Optional[str]] = mapped_column(String(64))
    hash: Mapped[Optional[str]] = mapped_column(String(64))
    # True once services.audit.desidentifier replaced the personal text (digest kept)
    desidentifie: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False,
                                               server_default="0")

    @property
    def changements(self) -> dict:
        try:
            value = json.loads(self.changes) if self.changes else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_digest(detail, changes, user_name, ip, user_agent) -> str:
    """Digest of a row's personal text: what the hash covers instead of the text itself."""
    return sha256(canonical({"detail": detail, "changes": changes, "user_name": user_name,
                             "ip": ip, "user_agent": user_agent}))


def row_hash(prev_hash: str, created_on: dt.datetime, user_id, action, object_type,
             object_id, candidature_id, candidat_id, contenu_sha256) -> str:
    fields = {"created_on": created_on.isoformat(timespec="microseconds"), "user_id": user_id,
              "action": action, "object_type": object_type, "object_id": object_id,
              "candidature_id": candidature_id, "candidat_id": candidat_id,
              "contenu": contenu_sha256}
    return sha256((prev_hash or "") + canonical(fields))
