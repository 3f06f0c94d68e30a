"""Server-side sessions, password history and attempt counters (login, « Mot de passe
oublié »): the rows every app server reads, so that a logout or a password change on one
server ends the session everywhere."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column


class UserSession(Model):
    """One browser session. The browser keeps a random id in its (signed) session cookie;
    only its SHA-256 is stored here, so a database leak opens no session."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(String(255))
    ended_on: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # deconnexion, mot_de_passe, tous_les_appareils, inactivite, duree_maximale, suspension
    end_reason: Mapped[Optional[str]] = mapped_column(String(30))


class PasswordHistory(Model):
    """The hashes of a user's previous passwords (the current one is ab_user.password)."""

    __tablename__ = "password_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)


class AttemptCounter(Model):
    """A counter over a time window, shared by every app server: failed logins per (login,
    address) and per address, reset e-mails per account and per address. Only hashes of the
    login and address are in `key`. `blocked_until` is the end of the current login delay."""

    __tablename__ = "attempt_counter"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    blocked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
