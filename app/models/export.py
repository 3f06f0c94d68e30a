"""Exports prepared off the request (services/exports.py): the queue of export jobs, read
by the scheduler process (or `flask clea exports`) and by « Mes exports »."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class ExportJob(Model):
    """One export asked by one user: its kind and filters, where it stands, its file."""

    __tablename__ = "export_job"
    __table_args__ = (Index("ix_export_job_user_created", "user_id", "created_on"),)
    STATUTS = ("en_attente", "en_cours", "prete", "echouee", "expiree")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))            # parcours, registre, facturation
    filtres: Mapped[str] = mapped_column(Text, default="{}")  # JSON of stats.Filtres
    statut: Mapped[str] = mapped_column(String(12), default="en_attente", index=True)
    lignes_faites: Mapped[int] = mapped_column(Integer, default=0)
    lignes_total: Mapped[Optional[int]] = mapped_column(Integer)
    fichier: Mapped[Optional[str]] = mapped_column(String(255))  # name in CLEA_EXPORT_DIR
    erreur: Mapped[Optional[str]] = mapped_column(Text)          # French, shown to the user
    pris_par: Mapped[Optional[str]] = mapped_column(String(120))  # the claiming process
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    started_on: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    updated_on: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)  # progress heartbeat
    finished_on: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    expire_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime, index=True)
