"""Outgoing e-mails (outbox). Every message is stored first; delivery is recorded on the row."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class EmailMessage(Model):
    __tablename__ = "email_message"
    STATUTS = ("a_envoyer", "envoye", "echec", "stocke")
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
