"""Business roles as data (DESIGN.md §4).

A user holds exactly one business role, stored as a FAB role whose name is the role's
French UI name. `level` orders the roles: a user may grant a role only at or below their own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from flask_babel import lazy_gettext as _l

NATIONAL = "national"
RESEAU = "reseau"
ORGANISME = "organisme"
ETABLISSEMENT = "etablissement"
CERTIFICATEUR = "certificateur"


@dataclass(frozen=True)
class RoleDef:
    code: str
    name: str  # FAB role name, also the French UI name
    level: Optional[int]
    scope: str
    manages_users: bool
    label: object  # lazy translated label

    def __str__(self) -> str:
        return str(self.label)


CERTIF_PRO = RoleDef("certif_pro", "Certif Pro", 100, NATIONAL, True, _l("Certif Pro"))
ADMIN_RESEAU = RoleDef(
    "admin_reseau", "Administrateur réseau", 60, RESEAU, True, _l("Administrateur réseau")
)
SUPERVISEUR_RESEAU = RoleDef(
    "superviseur_reseau", "Superviseur réseau", 50, RESEAU, True, _l("Superviseur réseau")
)
ADMIN_ORGANISME = RoleDef(
    "admin_organisme", "Administrateur organisme", 40, ORGANISME, True,
    _l("Administrateur organisme"),
)
UTILISATEUR_ORGANISME = RoleDef(
    "utilisateur_organisme", "Utilisateur organisme", 30, ORGANISME, False,
    _l("Utilisateur organisme"),
)
ADMIN_ETABLISSEMENT = RoleDef(
    "admin_etablissement", "Administrateur établissement", 20, ETABLISSEMENT, True,
    _l("Administrateur établissement"),
)
UTILISATEUR_ETABLISSEMENT = RoleDef(
    "utilisateur_etablissement", "Utilisateur établissement", 10, ETABLISSEMENT, False,
    _l("Utilisateur établissement"),
)
JURY = RoleDef("jury", "Jury", None, CERTIFICATEUR, False, _l("Jury"))

ROLES: tuple[RoleDef, ...] = (
    CERTIF_PRO,
    ADMIN_RESEAU,
    SUPERVISEUR_RESEAU,
    ADMIN_ORGANISME,
    UTILISATEUR_ORGANISME,
    ADMIN_ETABLISSEMENT,
    UTILISATEUR_ETABLISSEMENT,
    JURY,
)
BY_CODE = {r.code: r for r in ROLES}
BY_NAME = {r.name: r for r in ROLES}
TECHNICAL_ADMIN = "Admin"  # FAB's own role, technical administration only


def role_of(user) -> Optional[RoleDef]:
    """The business role of a user (None for anonymous or technical accounts)."""
    for fab_role in getattr(user, "roles", None) or ():
        role = BY_NAME.get(fab_role.name)
        if role:
            return role
    return None


def is_technical_admin(user) -> bool:
    return any(r.name == TECHNICAL_ADMIN for r in getattr(user, "roles", None) or ())


def find_role(text: str) -> Optional[RoleDef]:
    """Look a role up by its UI name or code, ignoring case."""
    key = (text or "").strip().lower()
    for role in ROLES:
        if key in (role.name.lower(), role.code):
            return role
    return None


def grantable_roles(user) -> list[RoleDef]:
    """Roles a user may grant: at or below their own level. Jury accounts: Certif Pro only."""
    if is_technical_admin(user):
        return list(ROLES)
    mine = role_of(user)
    if not mine or not mine.manages_users or mine.level is None:
        return []
    granted = [r for r in ROLES if r.level is not None and r.level <= mine.level]
    if mine is CERTIF_PRO:
        granted.append(JURY)
    return granted
