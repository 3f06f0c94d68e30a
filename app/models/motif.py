"""Standard motives (issue 16): the wordings Certif Pro and the juries reuse when they reject
a habilitation, refuse a rattachement or do not certify a dossier. Editable data, not code:
Certif Pro adds, rewords, orders and retires them (« Motifs types »)."""
from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class MotifType(Model):
    __tablename__ = "motif_type"
    __table_args__ = (Index("ix_motif_type_contexte", "contexte", "actif", "ordre"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # where it is offered: habilitation (rejet), rattachement (refus), jury (décision)
    contexte: Mapped[str] = mapped_column(String(20))
    libelle: Mapped[str] = mapped_column(String(120))
    texte: Mapped[str] = mapped_column(Text)
    ordre: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    actif: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    def __str__(self) -> str:
        return self.libelle
