"""Jury sessions of a certificateur (Transitions Pro of a region, or a branche's CPNE)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .structure import Certificateur

PREPARATION, OUVERTE, CLOSE = "preparation", "ouverte", "close"
EMPLOYEURS, SALARIES = "employeurs", "salaries"


class SessionJury(Model):
    __tablename__ = "session_jury"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificateur_id: Mapped[int] = mapped_column(ForeignKey("certificateur.id"), index=True)
    date_session: Mapped[dt.date] = mapped_column(Date, index=True)
    date_limite: Mapped[dt.date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(12))  # presentiel | distanciel
    lieu: Mapped[Optional[str]] = mapped_column(String(200))
    statut: Mapped[str] = mapped_column(String(12), default=PREPARATION, index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    certificateur: Mapped[Certificateur] = relationship()
    membres: Mapped[list["MembreJury"]] = relationship(back_populates="session",
                                                      cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.certificateur} — {self.date_session.strftime('%d/%m/%Y')}"


class MembreJury(Model):
    __tablename__ = "membre_jury"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session_jury.id", ondelete="CASCADE"),
                                            index=True)
    nom: Mapped[str] = mapped_column(String(150))
    college: Mapped[str] = mapped_column(String(12))
    session: Mapped[SessionJury] = relationship(back_populates="membres")
