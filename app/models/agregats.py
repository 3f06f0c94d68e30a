"""The Stats page's aggregates (services/agregats.py keeps them; DESIGN §10).

`stats_dossier`: one row of facts per candidature (its perimeter, filters, status and the
dates of its steps), read with the same filters as the dossiers. `stats_flux_mois` and
`stats_flux_jour`: the events counted by the monthly flows, per (réseau, organisme) and per
month or day. `stats_acquisition`: per (réseau, organisme, month of creation, type
d'évaluation, sous-domaine) the results acquis and the results of finalized evaluations.
`stats_compteurs`: the dossiers per (réseau, organisme, month of creation, status, motive).
`reseau_id` 0 stands for an organisme without réseau in the keys; `organisme_id` -1 marks the
réseau's roll-up row and (-1, -1) the national one (services/agregats.TOUS). No foreign keys: the rows
follow their sources in the same transaction, including deletions."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import BigInteger, Date, DateTime, Float, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column


class StatsDossier(Model):
    __tablename__ = "stats_dossier"
    __table_args__ = (
        Index("ix_stats_dossier_reseau", "reseau_id", "cree_le"),
        Index("ix_stats_dossier_organisme", "organisme_id", "cree_le"),
        Index("ix_stats_dossier_etablissement", "etablissement_id", "cree_le"),
        Index("ix_stats_dossier_cree_le", "cree_le"),
        # the national medians: read by their position in these indexes (services/stats.py)
        *[Index(f"ix_stats_dossier_{name}", name, postgresql_where=text(f"{name} IS NOT NULL"),
                sqlite_where=text(f"{name} IS NOT NULL"))
          for name in ("duree_prealable", "duree_finale", "duree_envoi", "duree_decision")],
    )
    candidature_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    etablissement_id: Mapped[int] = mapped_column(Integer)
    organisme_id: Mapped[int] = mapped_column(Integer)
    reseau_id: Mapped[int] = mapped_column(Integer)
    cree_le: Mapped[dt.datetime] = mapped_column(DateTime)
    type_public: Mapped[Optional[str]] = mapped_column(String(40))
    niveau: Mapped[Optional[int]] = mapped_column(Integer)
    statut: Mapped[str] = mapped_column(String(30))
    motif_abandon: Mapped[Optional[str]] = mapped_column(String(40))
    # the first finalized préalable (by id): whether there is one, whether it was validated
    prealable_finalise: Mapped[int] = mapped_column(Integer, default=0)
    prealable_valide: Mapped[int] = mapped_column(Integer, default=0)
    prealable_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # first finalized
    finale_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # last validated finale
    envoi_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # first sending
    decision_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # last final decision
    certifiee: Mapped[int] = mapped_column(Integer, default=0)  # jury decisions, by kind
    non_certifiee: Mapped[int] = mapped_column(Integer, default=0)
    complement: Mapped[int] = mapped_column(Integer, default=0)
    # days between two steps (None when the second is missing or earlier): création →
    # préalable, préalable → finale, validated (finale, else préalable) → sent, sent → decision
    duree_prealable: Mapped[Optional[float]] = mapped_column(Float)
    duree_finale: Mapped[Optional[float]] = mapped_column(Float)
    duree_envoi: Mapped[Optional[float]] = mapped_column(Float)
    duree_decision: Mapped[Optional[float]] = mapped_column(Float)
    # what the parcours export shows of the dossier (services/exports.py reads these instead
    # of recomputing them): the last finalized evaluation (by id), its type, result and its
    # results as two masks (bit i: the i-th sous-domaine in the référentiel's order, domain
    # then sous-domaine, acquis or non acquis; neither: no answer; NULL: no result), the
    # hours of formation, the last decision (by id) and the certificate's number
    derniere_type: Mapped[Optional[str]] = mapped_column(String(10))
    derniere_resultat: Mapped[Optional[str]] = mapped_column(String(12))
    masque_acquis: Mapped[Optional[int]] = mapped_column(BigInteger)
    masque_non_acquis: Mapped[Optional[int]] = mapped_column(BigInteger)
    heures: Mapped[Optional[float]] = mapped_column(Float, default=0.0)
    derniere_decision: Mapped[Optional[str]] = mapped_column(String(15))
    certificat_numero: Mapped[Optional[str]] = mapped_column(String(20))


class StatsFluxMois(Model):
    __tablename__ = "stats_flux_mois"
    __table_args__ = (Index("ix_stats_flux_mois_organisme", "organisme_id", "mois"),)
    reseau_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mois: Mapped[str] = mapped_column(String(7), primary_key=True)
    nature: Mapped[str] = mapped_column(String(12), primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)


class StatsFluxJour(Model):
    __tablename__ = "stats_flux_jour"
    __table_args__ = (Index("ix_stats_flux_jour_jour", "jour"),)
    reseau_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    jour: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    nature: Mapped[str] = mapped_column(String(12), primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)


class StatsAcquisition(Model):
    __tablename__ = "stats_acquisition"
    __table_args__ = (Index("ix_stats_acquisition_organisme", "organisme_id", "mois"),)
    reseau_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mois: Mapped[str] = mapped_column(String(7), primary_key=True)  # the dossier's creation
    type: Mapped[str] = mapped_column(String(10), primary_key=True)
    sous_domaine_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    acquis: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)


class StatsCompteurs(Model):
    """The dossiers' counts per (réseau, organisme, month of creation, status, motive of
    abandonment ('' when none)): dossiers, first préalable finalized / validated, decisions."""
    __tablename__ = "stats_compteurs"
    __table_args__ = (Index("ix_stats_compteurs_organisme", "organisme_id", "mois"),)
    reseau_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    organisme_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mois: Mapped[str] = mapped_column(String(7), primary_key=True)
    statut: Mapped[str] = mapped_column(String(30), primary_key=True)
    motif_abandon: Mapped[str] = mapped_column(String(40), primary_key=True)
    nombre: Mapped[int] = mapped_column(Integer, default=0)
    prealable_finalise: Mapped[int] = mapped_column(Integer, default=0)
    prealable_valide: Mapped[int] = mapped_column(Integer, default=0)
    certifiee: Mapped[int] = mapped_column(Integer, default=0)
    non_certifiee: Mapped[int] = mapped_column(Integer, default=0)
    complement: Mapped[int] = mapped_column(Integer, default=0)
