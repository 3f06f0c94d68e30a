"""Structures: réseaux, organismes de formation, établissements, certificateurs, branches."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

# The 18 French regions (code → name). Names are proper nouns and are not translated.
REGIONS: dict[str, str] = {
    "ARA": "Auvergne-Rhône-Alpes",
    "BFC": "Bourgogne-Franche-Comté",
    "BRE": "Bretagne",
    "CVL": "Centre-Val de Loire",
    "COR": "Corse",
    "GES": "Grand Est",
    "HDF": "Hauts-de-France",
    "IDF": "Île-de-France",
    "NOR": "Normandie",
    "NAQ": "Nouvelle-Aquitaine",
    "OCC": "Occitanie",
    "PDL": "Pays de la Loire",
    "PAC": "Provence-Alpes-Côte d'Azur",
    "GUA": "Guadeloupe",
    "MTQ": "Martinique",
    "GUF": "Guyane",
    "LRE": "La Réunion",
    "MAY": "Mayotte",
}


def _now() -> dt.datetime:
    return dt.datetime.now()


class ContactMixin:
    contact_nom: Mapped[Optional[str]] = mapped_column(String(150))
    contact_email: Mapped[Optional[str]] = mapped_column(String(320))
    contact_telephone: Mapped[Optional[str]] = mapped_column(String(30))


class AddressMixin:
    adresse: Mapped[Optional[str]] = mapped_column(String(255))
    code_postal: Mapped[Optional[str]] = mapped_column(String(10))
    ville: Mapped[Optional[str]] = mapped_column(String(120))


class Branche(Model):
    """Branche professionnelle délégataire (socle contextualisé)."""

    __tablename__ = "branche"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    nom: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return self.nom


class Certificateur(Model):
    """Certif Pro (national), a Transitions Pro (one per region) or a CPNE (one per branche)."""

    __tablename__ = "certificateur"
    TYPES = ("certif_pro", "transitions_pro", "cpne")
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    region: Mapped[Optional[str]] = mapped_column(String(3))
    branche_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("branche.id", ondelete="RESTRICT"), index=True)
    branche: Mapped[Optional[Branche]] = relationship()

    def __str__(self) -> str:
        return self.nom


class Reseau(ContactMixin, Model):
    """Réseau d'organismes; the contact is the tête de réseau's."""

    __tablename__ = "reseau"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(200), unique=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    organismes: Mapped[list["Organisme"]] = relationship(back_populates="reseau")

    def __str__(self) -> str:
        return self.nom


class Organisme(ContactMixin, AddressMixin, Model):
    __tablename__ = "organisme"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reseau_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("reseau.id", ondelete="RESTRICT"), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(200), index=True)
    siren: Mapped[str] = mapped_column(String(9), unique=True)
    nda: Mapped[Optional[str]] = mapped_column(String(11))
    actif: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    reseau: Mapped[Optional[Reseau]] = relationship(back_populates="organismes")
    etablissements: Mapped[list["Etablissement"]] = relationship(
        back_populates="organisme", order_by="Etablissement.nom"
    )

    def __str__(self) -> str:
        return self.raison_sociale


class Etablissement(ContactMixin, AddressMixin, Model):
    __tablename__ = "etablissement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisme_id: Mapped[int] = mapped_column(
        ForeignKey("organisme.id", ondelete="RESTRICT"), index=True)
    nom: Mapped[str] = mapped_column(String(200), index=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    region: Mapped[Optional[str]] = mapped_column(String(3), index=True)
    actif: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=_now)
    organisme: Mapped[Organisme] = relationship(back_populates="etablissements")

    @property
    def region_nom(self) -> str:
        return REGIONS.get(self.region or "", "")

    def __str__(self) -> str:
        return self.nom
