"""Two-factor login (TOTP): a user's confirmed authenticator secret and their recovery codes."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class DeuxFacteurs(Model):
    """Exists only once the enrolment is confirmed by a first code (the pending secret lives in
    the enrolling user's session). `dernier_pas` is the last accepted 30-second TOTP step: a
    code of that step or an earlier one is a replay and is refused."""

    __tablename__ = "deux_facteurs"
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    active_le: Mapped[dt.datetime] = mapped_column(DateTime)
    dernier_pas: Mapped[Optional[int]] = mapped_column(Integer)


class CodeSecours(Model):
    """A single-use recovery code. Only an HMAC of the code is stored (keyed by SECRET_KEY), so
    a copy of the database alone gives no usable code."""

    __tablename__ = "code_secours"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"),
                                         index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
