"""The CléA référentiel, versioned: domaines, sous-domaines, critères."""
from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Referentiel(Model):
    __tablename__ = "referentiel"
    __table_args__ = (UniqueConstraint("nom", "version"), {"extend_existing": True})
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(20))
    en_vigueur: Mapped[bool] = mapped_column(Boolean, default=False)
    charge_le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    domaines: Mapped[list["Domaine"]] = relationship(order_by="Domaine.ordre", back_populates="referentiel")

    def __str__(self) -> str:
        return f"{self.nom} {self.version}"


class Domaine(Model):
    __tablename__ = "domaine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referentiel_id: Mapped[int] = mapped_column(
        ForeignKey("referentiel.id", ondelete="RESTRICT"), index=True)
    numero: Mapped[str] = mapped_column(String(5))
    intitule: Mapped[str] = mapped_column(String(255))
    ordre: Mapped[int] = mapped_column(Integer)
    referentiel: Mapped[Referentiel] = relationship(back_populates="domaines")
    sous_domaines: Mapped[list["SousDomaine"]] = relationship(
        order_by="SousDomaine.ordre", back_populates="domaine"
    )


class SousDomaine(Model):
    __tablename__ = "sous_domaine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domaine_id: Mapped[int] = mapped_column(
        ForeignKey("domaine.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(10))
    intitule: Mapped[str] = mapped_column(String(255))
    ordre: Mapped[int] = mapped_column(Integer)
    intitule_verifie: Mapped[bool] = mapped_column(Boolean, default=True)
    domaine: Mapped[Domaine] = relationship(back_populates="sous_domaines")
    criteres: Mapped[list["Critere"]] = relationship(
        order_by="Critere.ordre", back_populates="sous_domaine"
    )


class Critere(Model):
    __tablename__ = "critere"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sous_domaine_id: Mapped[int] = mapped_column(
        ForeignKey("sous_domaine.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(12))
    intitule: Mapped[str] = mapped_column(String(500))
    ordre: Mapped[int] = mapped_column(Integer)
    sous_domaine: Mapped[SousDomaine] = relationship(back_populates="criteres")
