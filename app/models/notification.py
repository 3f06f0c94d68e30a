"""Notifications: outgoing e-mails (outbox), in-app notifications and their preferences,
news (actualités), and the job lock of the scheduler."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class EmailMessage(Model):
    __tablename__ = "email_message"
    STATUTS = ("a_envoyer", "en_cours", "envoye", "echec", "stocke")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destinataire: Mapped[str] = mapped_column(String(320), index=True)
    sujet: Mapped[str] = mapped_column(String(255))
    corps_texte: Mapped[str] = mapped_column(Text)
    corps_html: Mapped[Optional[str]] = mapped_column(Text)
    rubrique: Mapped[Optional[str]] = mapped_column(String(40))
    statut: Mapped[str] = mapped_column(String(12), default="a_envoyer", index=True)
    tentatives: Mapped[int] = mapped_column(Integer, default=0)
    derniere_erreur: Mapped[Optional[str]] = mapped_column(Text)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now, index=True)
    sent_on: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # Delivery: next try (backoff after an SMTP failure) and the claim of a sender process.
    prochain_essai: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
    pris_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class Notification(Model):
    """An in-app notification for one user (the bell)."""

    __tablename__ = "notification"
    # ix_notification_lien: the notifications about a request, marked done when it is decided
    __table_args__ = (Index("ix_notification_user_lu", "user_id", "lu", "created_on"),
                      Index("ix_notification_lien", "lien"),
                      {"extend_existing": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"))
    rubrique: Mapped[str] = mapped_column(String(40), index=True)
    titre: Mapped[str] = mapped_column(String(255))
    texte: Mapped[str] = mapped_column(Text)
    lien: Mapped[Optional[str]] = mapped_column(String(500))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    lu: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    lu_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)


class PreferenceNotification(Model):
    """Per user and rubrique: whether an e-mail is sent too (in-app is always on)."""

    __tablename__ = "notification_preference"
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    rubrique: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)


class Actualite(Model):
    """News written by Certif Pro, shown on the home page between its dates."""

    __tablename__ = "actualite"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    titre: Mapped[str] = mapped_column(String(200))
    texte: Mapped[str] = mapped_column(Text)
    publie_le: Mapped[dt.date] = mapped_column(Date, index=True)
    expire_le: Mapped[Optional[dt.date]] = mapped_column(Date)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    auteur_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))

    def __str__(self) -> str:
        return self.titre


class JobLock(Model):
    """A named lock in the database: a scheduled job runs once even with two schedulers."""

    __tablename__ = "job_lock"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    locked_until: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    owner: Mapped[Optional[str]] = mapped_column(String(120))
