"""Jury sessions of a certificateur (Transitions Pro of a region, or a branche's CPNE)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .structure import Certificateur

PREPARATION, OUVERTE, CLOSE, ANNULEE = "preparation", "ouverte", "close", "annulee"
EMPLOYEURS, SALARIES = "employeurs", "salaries"


class SessionJury(Model):
    __tablename__ = "session_jury"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificateur_id: Mapped[int] = mapped_column(
        ForeignKey("certificateur.id", ondelete="RESTRICT"), index=True)
    date_session: Mapped[dt.date] = mapped_column(Date, index=True)
    date_limite: Mapped[dt.date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(12))  # presentiel | distanciel
    lieu: Mapped[Optional[str]] = mapped_column(String(200))
    statut: Mapped[str] = mapped_column(String(12), default=PREPARATION, index=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    close_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    # A cancelled session: when and why (its dossiers went to the next session of the jury)
    annulee_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    motif_annulation: Mapped[Optional[str]] = mapped_column(Text)
    # The procès-verbal PDF, generated when the session is closed (storage name in UPLOAD_DIR)
    proces_verbal: Mapped[Optional[str]] = mapped_column(String(80))
    # SHA-256 of the stored procès-verbal (hex): any later copy is checked against it
    proces_verbal_sha256: Mapped[Optional[str]] = mapped_column(String(64))
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
    # The member's account (a Jury user of the certificateur): a member with an account
    # votes, and the president records the jury's decision (a joint decision). Members
    # named without an account (older sessions) do neither.
    user_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="fk_membre_jury_user"), index=True)
    president: Mapped[bool] = mapped_column(Boolean, default=False)
    session: Mapped[SessionJury] = relationship(back_populates="membres")
    user = relationship("Utilisateur")


class VoteJury(Model):
    """A member's vote on a dossier during a session (changed until the decision)."""

    __tablename__ = "vote_jury"
    __table_args__ = (UniqueConstraint("session_jury_id", "candidature_id", "membre_id",
                                       name="uq_vote_jury_membre"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_jury_id: Mapped[int] = mapped_column(
        ForeignKey("session_jury.id", ondelete="CASCADE", name="fk_vote_session"))
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="CASCADE", name="fk_vote_candidature"),
        index=True)
    membre_id: Mapped[int] = mapped_column(
        ForeignKey("membre_jury.id", ondelete="CASCADE", name="fk_vote_membre"), index=True)
    vote: Mapped[str] = mapped_column(String(15))
    motif: Mapped[Optional[str]] = mapped_column(Text)
    le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    membre: Mapped[MembreJury] = relationship()


CERTIFIEE, NON_CERTIFIEE, COMPLEMENT = "certifiee", "non_certifiee", "complement"


class DecisionJury(Model):
    """One decision of a jury on a dossier: Certifiée, Non certifiée (motive) or Demande de
    compléments (text); the OF's answer to a complement request is stored on the same row."""

    __tablename__ = "decision_jury"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT", name="fk_decision_candidature"),
        index=True)
    session_jury_id: Mapped[int] = mapped_column(
        ForeignKey("session_jury.id", ondelete="RESTRICT", name="fk_decision_session"), index=True)
    decision: Mapped[str] = mapped_column(String(15))
    motif: Mapped[Optional[str]] = mapped_column(Text)
    par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="fk_decision_par"))
    le: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    reponse: Mapped[Optional[str]] = mapped_column(Text)
    repondu_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    repondu_par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="fk_decision_repondu_par"))
    session: Mapped[SessionJury] = relationship()
    candidature = relationship("Candidature")
    par = relationship("Utilisateur", foreign_keys=[par_id])
    repondu_par = relationship("Utilisateur", foreign_keys=[repondu_par_id])


class CompteurCertificat(Model):
    """The last certificate number of a year: incremented in the deciding transaction, so a
    rolled-back decision gives its number back (no gap) and two decisions never share one."""

    __tablename__ = "compteur_certificat"
    annee: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dernier: Mapped[int] = mapped_column(Integer, default=0)


class Certificat(Model):
    __tablename__ = "certificat"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    numero: Mapped[str] = mapped_column(String(20), unique=True)
    candidature_id: Mapped[int] = mapped_column(
        ForeignKey("candidature.id", ondelete="RESTRICT", name="fk_certificat_candidature"),
        unique=True)
    session_jury_id: Mapped[int] = mapped_column(
        ForeignKey("session_jury.id", ondelete="RESTRICT", name="fk_certificat_session"),
        index=True)
    certificateur_id: Mapped[int] = mapped_column(
        ForeignKey("certificateur.id", ondelete="RESTRICT", name="fk_certificat_certificateur"))
    date_jury: Mapped[dt.date] = mapped_column(Date)
    # A signed PDF uploaded by the jury replaces the generated one (storage name)
    fichier_signe: Mapped[Optional[str]] = mapped_column(String(80))
    signe_le: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    candidature = relationship("Candidature")
    certificateur: Mapped[Certificateur] = relationship()
    session: Mapped[SessionJury] = relationship()
    envois: Mapped[list["EnvoiCertificat"]] = relationship(
        back_populates="certificat", order_by="EnvoiCertificat.id")


class LotEnvoi(Model):
    """A batch of paper certificates posted the same day by Certif Pro."""

    __tablename__ = "lot_envoi"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date_envoi: Mapped[dt.date] = mapped_column(Date)
    par_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL", name="fk_lot_envoi_par"))
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    par = relationship("Utilisateur")


class EnvoiCertificat(Model):
    """One posting of a paper certificate: date and the address used (copied, so a later
    change of the candidate's address does not rewrite history)."""

    __tablename__ = "envoi_certificat"
    # a returned posting is posted again once; the returns still to re-post are found by
    # ix_envoi_retour (few rows: the returned ones)
    __table_args__ = (Index("uq_envoi_renvoi_de", "renvoi_de_id", unique=True),
                      Index("ix_envoi_retour", "retour_le"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificat_id: Mapped[int] = mapped_column(
        ForeignKey("certificat.id", ondelete="RESTRICT", name="fk_envoi_certificat"), index=True)
    lot_id: Mapped[int] = mapped_column(
        ForeignKey("lot_envoi.id", ondelete="RESTRICT", name="fk_envoi_lot"), index=True)
    date_envoi: Mapped[dt.date] = mapped_column(Date)
    adresse: Mapped[str] = mapped_column(Text)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    # the carrier's tracking number, when the letter has one
    numero_suivi: Mapped[Optional[str]] = mapped_column(String(60))
    # a letter that came back: when, why (services/envois.RETOURS) and what the post said
    retour_le: Mapped[Optional[dt.date]] = mapped_column(Date)
    retour_motif: Mapped[Optional[str]] = mapped_column(String(20))
    retour_detail: Mapped[Optional[str]] = mapped_column(Text)
    # a re-shipping: the returned posting it replaces, and why it is posted again
    renvoi_de_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("envoi_certificat.id", ondelete="RESTRICT", name="fk_envoi_renvoi_de"))
    motif_renvoi: Mapped[Optional[str]] = mapped_column(Text)
    certificat: Mapped[Certificat] = relationship(back_populates="envois")
    renvoi_de: Mapped[Optional["EnvoiCertificat"]] = relationship(
        remote_side=[id], back_populates="renvoi")
    renvoi: Mapped[Optional["EnvoiCertificat"]] = relationship(
        back_populates="renvoi_de", uselist=False)
    lot: Mapped[LotEnvoi] = relationship()
