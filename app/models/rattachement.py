"""Demandes de rattachement: moving a dossier to another établissement (guide §16)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .candidature import Candidature
from .structure import Etablissement

EN_ATTENTE, ACCEPTEE, REFUSEE = "en_attente", "acceptee", "refusee"


class Rattachement(Model):
    __tablename__ = "rattachement"
    __table_args__ = (
        # One pending request per dossier at a time.
        Index("uq_rattachement_en_attente", "candidature_id", unique=True,
              postgresql_where=text("statut = 'en_attente'"),
              sqlite_where=text("statut = 'en_attente'")),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT"), index=True)
    etablissement_origine_id: Mapped[int] = mapped_column(
        ForeignKey("etablissement.id", ondelete="RESTRICT"))
    etablissement_cible_id: Mapped[int] = mapped_column(
        ForeignKey("etablissement.id", ondelete="RESTRICT"), index=True)
    motif: Mapped[str] = mapped_column(String(30))
    motif_texte: Mapped[Optional[str]] = mapped_column(Text)
    statut: Mapped[str] = mapped_column(String(12), default=EN_ATTENTE, index=True)
    motif_refus: Mapped[Optional[str]] = mapped_column(Text)
    demande_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"), index=True)
    demande_le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    decide_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    decide_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)

    candidature: Mapped[Candidature] = relationship()
    etablissement_origine: Mapped[Etablissement] = relationship(
        foreign_keys=[etablissement_origine_id])
    etablissement_cible: Mapped[Etablissement] = relationship(
        foreign_keys=[etablissement_cible_id])
    demande_par = relationship("Utilisateur", foreign_keys=[demande_par_id])
    decide_par = relationship("Utilisateur", foreign_keys=[decide_par_id])

    def __str__(self) -> str:
        return f"{self.candidature.candidat} → {self.etablissement_cible}"
