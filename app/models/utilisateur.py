"""Users: FAB's ab_user extended with the business perimeter, and single-use account tokens."""
from __future__ import annotations

import datetime as dt
from typing import Optional

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .structure import Certificateur, Etablissement, Organisme, Reseau


class Utilisateur(User):
    """A platform user. Exactly one business role (FAB role) and the perimeter it applies to."""

    __tablename__ = "ab_user"
    telephone: Mapped[Optional[str]] = mapped_column(String(30))
    reseau_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("reseau.id", ondelete="RESTRICT"), index=True)
    organisme_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("organisme.id", ondelete="RESTRICT"), index=True)
    etablissement_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("etablissement.id", ondelete="RESTRICT"), index=True
    )
    certificateur_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("certificateur.id", ondelete="RESTRICT"), index=True
    )
    notifier_nouvelle_candidature: Mapped[Optional[bool]] = mapped_column(Boolean, default=False)
    # Raised by a password change and « Se déconnecter de tous les appareils »: API tokens
    # carry the value they were issued with and are refused once it changed.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    reseau: Mapped[Optional[Reseau]] = relationship(foreign_keys=[reseau_id])
    organisme: Mapped[Optional[Organisme]] = relationship(foreign_keys=[organisme_id])
    etablissement: Mapped[Optional[Etablissement]] = relationship(foreign_keys=[etablissement_id])
    certificateur: Mapped[Optional[Certificateur]] = relationship(foreign_keys=[certificateur_id])

    @property
    def role(self):
        """The business role (security.roles.RoleDef) or None for technical accounts."""
        from app.security.roles import role_of

        return role_of(self)

    @property
    def role_label(self) -> str:
        role = self.role
        return role.label if role else ", ".join(r.name for r in self.roles)

    @property
    def perimetre_label(self) -> str:
        target = self.etablissement or self.organisme or self.reseau or self.certificateur
        return str(target) if target else ""

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class AccountToken(Model):
    """Single-use link for first connection ("invitation") or password reset ("reset").

    Only a SHA-256 of the token is stored, so a database leak exposes no usable link.
    """

    __tablename__ = "account_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_on: Mapped[dt.datetime] = mapped_column(DateTime, default=dt.datetime.now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime)
    user: Mapped[Utilisateur] = relationship()
