"""Habilitations of établissements: a request, then a decision by Certif Pro (national) or by
the CPNE of a branche (socle contextualisé)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_babel import lazy_gettext as _l
from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .structure import Branche, Etablissement

EN_ATTENTE, VALIDEE, REJETEE, EXPIREE = "en_attente", "validee", "rejetee", "expiree"
NATIONAL, BRANCHE = "national", "branche"
# What a user reads for each state (list, fiche, the « État » filter).
STATUT_LABELS = {EN_ATTENTE: _l("En attente"), VALIDEE: _l("Validée"), REJETEE: _l("Rejetée"),
                 EXPIREE: _l("Expirée")}


class Habilitation(Model):
    __tablename__ = "habilitation"
    __table_args__ = (
        # One pending request per établissement and scope (national, or one branche).
        Index("uq_habilitation_en_attente", "etablissement_id", "portee", "branche_key",
              unique=True, postgresql_where=text("statut = 'en_attente'"),
              sqlite_where=text("statut = 'en_attente'")),
        Index("ix_habilitation_validite", "etablissement_id", "statut", "date_fin"),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    etablissement_id: Mapped[int] = mapped_column(
        ForeignKey("etablissement.id", ondelete="RESTRICT"), index=True)
    portee: Mapped[str] = mapped_column(String(10), default=NATIONAL)
    branche_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("branche.id", ondelete="RESTRICT"), index=True)
    branche_key: Mapped[int] = mapped_column(Integer, default=0)  # branche_id or 0 (index)
    statut: Mapped[str] = mapped_column(String(12), default=EN_ATTENTE, index=True)
    commentaire: Mapped[Optional[str]] = mapped_column(Text)
    date_debut: Mapped[Optional[dt.date]] = mapped_column(Date)
    date_fin: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    motif_rejet: Mapped[Optional[str]] = mapped_column(Text)
    demande_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    demande_le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    decide_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    decide_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    renouvellement_de_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("habilitation.id", ondelete="RESTRICT"))
    rappel_90_envoye: Mapped[bool] = mapped_column(Boolean, default=False)
    rappel_30_envoye: Mapped[bool] = mapped_column(Boolean, default=False)

    etablissement: Mapped[Etablissement] = relationship()
    branche: Mapped[Optional[Branche]] = relationship()
    demande_par = relationship("Utilisateur", foreign_keys=[demande_par_id])
    decide_par = relationship("Utilisateur", foreign_keys=[decide_par_id])

    def est_valide(self, today: Optional[dt.date] = None) -> bool:
        today = today or dt.date.today()
        return (self.statut == VALIDEE and self.date_debut is not None
                and self.date_fin is not None and self.date_debut <= today <= self.date_fin)

    @property
    def portee_label(self) -> str:
        from flask_babel import gettext as _

        if self.portee == BRANCHE and self.branche is not None:
            return _("Socle contextualisé — %(branche)s", branche=self.branche.nom)
        return _("CléA socle (Certif Pro)")

    @property
    def statut_label(self) -> str:
        return str(STATUT_LABELS.get(self.statut, self.statut))

    def __str__(self) -> str:
        return f"{self.etablissement} — {self.portee_label}"
