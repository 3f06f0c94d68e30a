"""Evaluations (préalable / finale) on the grid of the référentiel, formations followed between
them, and the documents attached to a dossier, an evaluation or a formation."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, Numeric,
                        String, Table, Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .candidature import Candidature
from .referentiel import Referentiel, SousDomaine

PREALABLE, FINALE = "prealable", "finale"
EN_COURS, FINALISEE = "en_cours", "finalisee"
VALIDE, NON_VALIDE = "valide", "non_valide"


class Evaluation(Model):
    __tablename__ = "evaluation"
    __table_args__ = (
        # One draft at a time per dossier.
        Index("uq_evaluation_brouillon", "candidature_id", unique=True,
              postgresql_where=text("statut = 'en_cours'"),
              sqlite_where=text("statut = 'en_cours'")),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT"), index=True)
    referentiel_id: Mapped[int] = mapped_column(ForeignKey("referentiel.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(10))
    statut: Mapped[str] = mapped_column(String(10), default=EN_COURS)
    resultat: Mapped[Optional[str]] = mapped_column(String(12))
    evaluateur: Mapped[Optional[str]] = mapped_column(String(150))
    date_evaluation: Mapped[Optional[dt.date]] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    finalisee_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    finalisee_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))

    candidature: Mapped[Candidature] = relationship()
    referentiel: Mapped[Referentiel] = relationship()
    resultats: Mapped[list["ResultatEvaluation"]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan")
    documents: Mapped[list["Document"]] = relationship(
        primaryjoin="and_(Document.evaluation_id == Evaluation.id, "
                    "Document.supprime_le.is_(None))", viewonly=True)


class ResultatEvaluation(Model):
    """One line of the grid: acquis (True), non acquis (False) or not entered yet (None)."""

    __tablename__ = "resultat_evaluation"
    __table_args__ = (UniqueConstraint("evaluation_id", "sous_domaine_id"),
                      {"extend_existing": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluation.id", ondelete="CASCADE"),
                                               index=True)
    sous_domaine_id: Mapped[int] = mapped_column(
        ForeignKey("sous_domaine.id", ondelete="RESTRICT"))
    acquis: Mapped[Optional[bool]] = mapped_column(Boolean)
    commentaire: Mapped[Optional[str]] = mapped_column(Text)
    evaluation: Mapped[Evaluation] = relationship(back_populates="resultats")
    sous_domaine: Mapped[SousDomaine] = relationship()


formation_sous_domaine = Table(
    "formation_sous_domaine", Model.metadata,
    Column("formation_id", ForeignKey("formation.id", ondelete="CASCADE"), primary_key=True),
    Column("sous_domaine_id", ForeignKey("sous_domaine.id", ondelete="RESTRICT"),
           primary_key=True),
    extend_existing=True,
)


class Formation(Model):
    __tablename__ = "formation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT"), index=True)
    intitule: Mapped[str] = mapped_column(String(200))
    organisme_formateur: Mapped[str] = mapped_column(String(200))
    formateur: Mapped[str] = mapped_column(String(150))
    date_debut: Mapped[dt.date] = mapped_column(Date)
    date_fin: Mapped[dt.date] = mapped_column(Date)
    duree_heures: Mapped[float] = mapped_column(Numeric(6, 1))
    modalite: Mapped[str] = mapped_column(String(20))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    candidature: Mapped[Candidature] = relationship()
    sous_domaines: Mapped[list[SousDomaine]] = relationship(secondary=formation_sous_domaine)
    documents: Mapped[list["Document"]] = relationship(
        primaryjoin="and_(Document.formation_id == Formation.id, "
                    "Document.supprime_le.is_(None))", viewonly=True)


class Document(Model):
    """A file stored outside static/ under a generated name, served through a checked view."""

    __tablename__ = "document"
    # a client's retry with the same idempotency key answers the first upload (per user)
    __table_args__ = (UniqueConstraint("created_by_id", "idempotency_key",
                                       name="uq_document_idempotency"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT"), index=True)
    evaluation_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("evaluation.id", ondelete="RESTRICT"), index=True)
    formation_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("formation.id", ondelete="RESTRICT"), index=True)
    nature: Mapped[str] = mapped_column(String(20))  # matrice | attestation | piece
    nom_original: Mapped[str] = mapped_column(String(255))
    nom_stockage: Mapped[str] = mapped_column(String(80), unique=True)
    type_mime: Mapped[str] = mapped_column(String(120))
    taille: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    supprime_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    supprime_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(100))
    evaluation: Mapped[Optional[Evaluation]] = relationship(foreign_keys=[evaluation_id])
