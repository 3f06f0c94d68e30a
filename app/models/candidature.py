"""Candidats (the person) and candidatures (one certification path, managed by one
établissement), with the history of every status change."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        event, select, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .structure import Branche, Etablissement, Organisme

# Statuses (DESIGN §5)
ATTENTE_EVAL_PREALABLE = "attente_eval_prealable"
ATTENTE_EVAL_FINALE = "attente_eval_finale"
A_ENVOYER = "a_envoyer"
ATTENTE_JURY = "attente_jury"
ATTENTE_CERTIFICATION = "attente_certification"
ATTENTE_COMPLEMENT = "attente_complement"
COMPLETEE = "completee"
CERTIFIEE = "certifiee"
NON_CERTIFIEE = "non_certifiee"
ABANDONNEE = "abandonnee"
CLOSED = (ABANDONNEE, NON_CERTIFIEE)  # a person may start a new path after these
# An anonymised person (services/rgpd.py) keeps a unique identity key starting with this
# mark: the national search (normalised text: letters, digits, spaces) never produces it.
ANONYME_PREFIX = "#anonyme-"


class Candidat(Model):
    """The person. Identity key (normalised nom de naissance + prénom + date de naissance) is
    unique: the same person exists once nationally."""

    __tablename__ = "candidat"
    __table_args__ = (
        Index("ix_candidat_recherche", "recherche",
              postgresql_ops={"recherche": "text_pattern_ops"}),
        Index("ix_candidat_recherche_usage", "recherche_usage",
              postgresql_ops={"recherche_usage": "text_pattern_ops"}),
        Index("ix_candidat_recherche_prenom", "recherche_prenom",
              postgresql_ops={"recherche_prenom": "text_pattern_ops"}),
        # the near-duplicates of a creation or an import: the people born that day
        Index("ix_candidat_date_naissance", "date_naissance"),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    civilite: Mapped[str] = mapped_column(String(5))
    nom_naissance: Mapped[str] = mapped_column(String(100))
    nom_usage: Mapped[Optional[str]] = mapped_column(String(100))
    prenoms: Mapped[str] = mapped_column(String(150))
    date_naissance: Mapped[dt.date] = mapped_column(Date)
    commune_naissance: Mapped[Optional[str]] = mapped_column(String(120))
    departement_naissance: Mapped[Optional[str]] = mapped_column(String(3))
    pays_naissance: Mapped[Optional[str]] = mapped_column(String(80))
    email: Mapped[Optional[str]] = mapped_column(String(320))
    telephone: Mapped[Optional[str]] = mapped_column(String(30))
    adresse: Mapped[Optional[str]] = mapped_column(String(255))
    code_postal: Mapped[Optional[str]] = mapped_column(String(10))
    ville: Mapped[Optional[str]] = mapped_column(String(120))
    # Search keys, normalised in Python (accents and case removed): "nom prenom" (birth and
    # usage names) and "prenom nom"; each has a prefix index (text_pattern_ops).
    cle_identite: Mapped[str] = mapped_column(String(300), unique=True)
    recherche: Mapped[str] = mapped_column(String(300))
    recherche_usage: Mapped[Optional[str]] = mapped_column(String(300))
    recherche_prenom: Mapped[str] = mapped_column(String(300))  # "prenom nom"
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    candidatures: Mapped[list["Candidature"]] = relationship(back_populates="candidat")

    @property
    def anonymise(self) -> bool:
        """Anonymised (services/rgpd.anonymiser): shown as « Candidat anonymisé » everywhere."""
        return (self.cle_identite or "").startswith(ANONYME_PREFIX)

    @property
    def nom_complet(self) -> str:
        if self.anonymise:
            from flask_babel import gettext

            return gettext("Candidat anonymisé")
        usage = f" ({self.nom_usage})" if self.nom_usage else ""
        return f"{self.nom_naissance.upper()}{usage} {self.prenoms}"

    def __str__(self) -> str:
        return self.nom_complet

# in the jury's examination: sent to a session, decision awaited (services/certification);
# the same predicate as SQL text, constants included (ix_candidature_en_examen's)
EN_EXAMEN = (ATTENTE_CERTIFICATION, COMPLETEE)
ATTENTE_SESSION_SQL = "statut = 'attente_jury' AND session_jury_id IS NULL"
EN_EXAMEN_SQL = ("statut IN (" + ", ".join(f"'{s}'" for s in EN_EXAMEN) + ") "
                 "AND session_jury_id IS NOT NULL")


class Candidature(Model):
    __tablename__ = "candidature"
    __table_args__ = (
        # A person has at most one live candidature, and is certified at most once.
        Index("uq_candidature_vivante", "candidat_id", unique=True,
              postgresql_where=text("statut NOT IN ('abandonnee', 'non_certifiee')"),
              sqlite_where=text("statut NOT IN ('abandonnee', 'non_certifiee')")),
        Index("uq_candidature_certifiee", "candidat_id", unique=True,
              postgresql_where=text("statut = 'certifiee'"),
              sqlite_where=text("statut = 'certifiee'")),
        Index("ix_candidature_etab_statut", "etablissement_id", "statut", "updated_on"),
        # The lists' order (updated_on DESC, id DESC), alone (national) and after each
        # perimeter column: the first page and every keyset page read one index range.
        Index("ix_candidature_liste", "updated_on", "id"),
        Index("ix_candidature_reseau_liste", "reseau_id", "updated_on", "id"),
        Index("ix_candidature_organisme_liste", "organisme_id", "updated_on", "id"),
        Index("ix_candidature_etab_liste", "etablissement_id", "updated_on", "id"),
        Index("ix_candidature_certificateur_liste", "certificateur_id", "updated_on", "id"),
        # a status in the lists' order: « Derniers dossiers certifiés » of the home page
        # (certified long ago, far down ix_candidature_liste) and the counts by status
        Index("ix_candidature_statut_liste", "statut", "updated_on", "id"),
        # a period of creation (the Stats filters, the export's ids): one index range
        Index("ix_candidature_creation", "created_on", "id"),
        # Certif Pro's desk: the dossiers sent that no session has taken yet, per jury, with
        # the oldest sending (index only: 12 ms for 46 804 of 1 000 000, 140 ms without)
        Index("ix_candidature_attente_session", "certificateur_id", "envoye_le", "id",
              postgresql_where=text(ATTENTE_SESSION_SQL),
              sqlite_where=text(ATTENTE_SESSION_SQL)),
        # « Dossiers à examiner par le jury »: the few in examination, per certificateur
        Index("ix_candidature_en_examen", "certificateur_id",
              postgresql_where=text(EN_EXAMEN_SQL), sqlite_where=text(EN_EXAMEN_SQL)),
        {"extend_existing": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidat_id: Mapped[int] = mapped_column(
        ForeignKey("candidat.id", ondelete="RESTRICT"), index=True)
    etablissement_id: Mapped[int] = mapped_column(  # indexed by ix_candidature_etab_liste
        ForeignKey("etablissement.id", ondelete="RESTRICT"))
    # The établissement's organisme and that organisme's réseau, carried on the dossier so
    # that the perimeter is one indexed equality (security/perimeter.py). Kept exact by
    # services/perimetre.py (creation, rattachement, an organisme moved to another réseau)
    # and filled on every ORM insert (below).
    organisme_id: Mapped[int] = mapped_column(
        ForeignKey("organisme.id", ondelete="RESTRICT"))
    reseau_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("reseau.id", ondelete="RESTRICT"))
    statut: Mapped[str] = mapped_column(String(30), default=ATTENTE_EVAL_PREALABLE)
    statut_avant_abandon: Mapped[Optional[str]] = mapped_column(String(30))
    type_public: Mapped[Optional[str]] = mapped_column(String(40))
    statut_inscription: Mapped[str] = mapped_column(String(40))
    branche_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("branche.id", ondelete="RESTRICT"))
    socle_contextualise: Mapped[bool] = mapped_column(Boolean, default=False)
    niveau_formation: Mapped[Optional[int]] = mapped_column(Integer)
    origine_demarche: Mapped[Optional[str]] = mapped_column(String(60))
    objectif_pro: Mapped[str] = mapped_column(Text)
    objectif_extra_pro: Mapped[str] = mapped_column(Text)
    certificat_papier: Mapped[bool] = mapped_column(Boolean, default=False)
    date_prealable: Mapped[Optional[dt.date]] = mapped_column(Date, index=True)
    motif_abandon: Mapped[Optional[str]] = mapped_column(String(40))
    motif_abandon_texte: Mapped[Optional[str]] = mapped_column(Text)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    updated_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL"))
    # Certification: the jury it was routed to, when, and the session it is assigned to.
    certificateur_id: Mapped[Optional[int]] = mapped_column(  # ix_candidature_certificateur_liste
        ForeignKey("certificateur.id", ondelete="RESTRICT"))
    envoye_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    session_jury_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("session_jury.id", ondelete="RESTRICT"), index=True)

    candidat: Mapped[Candidat] = relationship(back_populates="candidatures")
    etablissement: Mapped[Etablissement] = relationship()
    branche: Mapped[Optional[Branche]] = relationship()
    certificateur = relationship("Certificateur")
    session_jury = relationship("SessionJury")
    historique: Mapped[list["HistoriqueStatut"]] = relationship(
        order_by="HistoriqueStatut.id", back_populates="candidature",
        cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"{self.candidat} — {self.etablissement}"


@event.listens_for(Candidature, "before_insert")
def _perimetre_a_la_creation(mapper, connection, candidature: Candidature) -> None:
    """A dossier inserted without its organisme / réseau (tests, demo data, scripts) gets
    them from its établissement, so that the two columns are never wrong from the start."""
    if candidature.organisme_id is None and candidature.etablissement_id is not None:
        row = connection.execute(
            select(Etablissement.organisme_id, Organisme.reseau_id)
            .join(Organisme, Organisme.id == Etablissement.organisme_id)
            .where(Etablissement.id == candidature.etablissement_id)).first()
        if row is not None:
            candidature.organisme_id, candidature.reseau_id = row


class HistoriqueStatut(Model):
    """Every status change of a candidature: who, when, from, to, motive."""

    __tablename__ = "historique_statut"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="CASCADE"), index=True)
    de: Mapped[Optional[str]] = mapped_column(String(30))
    vers: Mapped[str] = mapped_column(String(30))
    motif: Mapped[Optional[str]] = mapped_column(Text)
    par_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    candidature: Mapped[Candidature] = relationship(back_populates="historique")
    par = relationship("Utilisateur")
