"""The permission matrix, as data: resource × role → rights (c, r, u, d).

From this one table: `flask clea init` syncs the FAB permissions of each role, the menus are
built, and tests/integration/test_authorization.py generates its cases. Which *rows* a role
sees is the perimeter's job (security/perimeter.py), not this table's.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from . import roles as R

CREATE, READ, UPDATE, DELETE = "create", "read", "update", "delete"
JUGER = "juger"  # record a jury decision on a dossier
_LETTERS = {"c": CREATE, "r": READ, "u": UPDATE, "d": DELETE, "j": JUGER}

# resource → {role code → rights}
MATRIX: dict[str, dict[str, str]] = {
    "Reseau": {
        R.CERTIF_PRO.code: "cru",
        R.ADMIN_RESEAU.code: "ru",
        R.SUPERVISEUR_RESEAU.code: "ru",
    },
    "Organisme": {
        R.CERTIF_PRO.code: "crud",
        R.ADMIN_RESEAU.code: "cru",
        R.SUPERVISEUR_RESEAU.code: "cru",
        R.ADMIN_ORGANISME.code: "ru",
        R.UTILISATEUR_ORGANISME.code: "r",
        R.ADMIN_ETABLISSEMENT.code: "r",
        R.UTILISATEUR_ETABLISSEMENT.code: "r",
    },
    "Etablissement": {
        R.CERTIF_PRO.code: "crud",
        R.ADMIN_RESEAU.code: "cru",
        R.SUPERVISEUR_RESEAU.code: "cru",
        R.ADMIN_ORGANISME.code: "cru",
        R.UTILISATEUR_ORGANISME.code: "r",
        R.ADMIN_ETABLISSEMENT.code: "ru",
        R.UTILISATEUR_ETABLISSEMENT.code: "r",
    },
    "Utilisateur": {
        R.CERTIF_PRO.code: "cru",
        R.ADMIN_RESEAU.code: "cru",
        R.SUPERVISEUR_RESEAU.code: "cru",
        R.ADMIN_ORGANISME.code: "cru",
        R.ADMIN_ETABLISSEMENT.code: "cru",
    },
    "EmailEnvoye": {
        R.CERTIF_PRO.code: "r",
    },
    "Referentiel": {
        R.CERTIF_PRO.code: "r",
    },
    # Demandes de rattachement: asked by those who manage dossiers, decided by Certif Pro.
    "Rattachement": {
        R.CERTIF_PRO.code: "ru",
        R.ADMIN_RESEAU.code: "cr",
        R.ADMIN_ORGANISME.code: "cr",
        R.UTILISATEUR_ORGANISME.code: "cr",
        R.ADMIN_ETABLISSEMENT.code: "cr",
        R.UTILISATEUR_ETABLISSEMENT.code: "cr",
    },
    # Candidatures (the Évaluations tab): data entry by every OF role; the tab itself also
    # needs a valid habilitation (services.habilitations.peut_evaluer).
    # Juries (and Certif Pro) record decisions on the dossiers sent to them ("j").
    "Candidature": {
        R.CERTIF_PRO.code: "crudj",
        R.JURY.code: "j",
        R.ADMIN_RESEAU.code: "crud",
        R.SUPERVISEUR_RESEAU.code: "r",
        R.ADMIN_ORGANISME.code: "crud",
        R.UTILISATEUR_ORGANISME.code: "crud",
        R.ADMIN_ETABLISSEMENT.code: "crud",
        R.UTILISATEUR_ETABLISSEMENT.code: "crud",
    },
    # Habilitation requests: asked by réseau/organisme admins, decided by Certif Pro (socle)
    # or by the CPNE's jury (branche) — services.habilitations.peut_decider says which.
    "Habilitation": {
        R.CERTIF_PRO.code: "cru",
        R.ADMIN_RESEAU.code: "cr",
        R.SUPERVISEUR_RESEAU.code: "cr",
        R.ADMIN_ORGANISME.code: "cr",
        R.UTILISATEUR_ORGANISME.code: "r",
        R.ADMIN_ETABLISSEMENT.code: "r",
        R.UTILISATEUR_ETABLISSEMENT.code: "r",
        R.JURY.code: "ru",
    },
    # Certification (guide §7, §18–§20): every role reads the juries' calendar; Certif Pro and
    # the juries manage sessions and record decisions; Certif Pro records certificate shipments.
    "Calendrier": {role.code: "r" for role in R.ROLES},
    "SessionJury": {
        R.CERTIF_PRO.code: "cru",
        R.JURY.code: "cru",
    },
    # Certificates: read with the dossier; the jury replaces one by its signed PDF.
    "Certificat": {**{role.code: "r" for role in R.ROLES}, R.JURY.code: "ru"},
    # Shipments: Certif Pro posts them, records a returned letter (u) and posts it again (c).
    "EnvoiCertificat": {
        R.CERTIF_PRO.code: "cru",
    },
    # Statistics and exports of the perimeter (guide §7 « Stats »); invoicing and the
    # national registry export are Certif Pro's (services.stats checks the national scope).
    "Stats": {
        R.CERTIF_PRO.code: "r",
        R.ADMIN_RESEAU.code: "r",
        R.ADMIN_ORGANISME.code: "r",
    },
    # News: Certif Pro writes them; every role reads the current ones.
    "Actualite": {role.code: ("crud" if role is R.CERTIF_PRO else "r") for role in R.ROLES},
    # Standard motives of the decision forms (« Motifs types »): Certif Pro keeps them.
    "MotifType": {R.CERTIF_PRO.code: "crud"},
    # Self-service screens every business role has (profile, password, support form).
    "Profil": {role.code: "ru" for role in R.ROLES},
    # Each user's own notifications (the bell).
    "Notification": {role.code: "ru" for role in R.ROLES},
    # Two-factor login: Certif Pro resets a user's second factor (lost telephone). Each user's
    # own enrolment, codes and disabling are « Profil » pages.
    "DeuxFacteurs": {
        R.CERTIF_PRO.code: "u",
    },
    # The audit journal (screen /audit/, API /api/v1/audit/, export): Certif Pro only.
    "Audit": {
        R.CERTIF_PRO.code: "r",
    },
    # Personal data of candidats (services/rgpd.py): « Exporter les données du candidat »
    # for every role that reads the dossiers (inside its perimeter); « Anonymiser » (u) for
    # Certif Pro only.
    "DonneesPersonnelles": {
        R.CERTIF_PRO.code: "ru",
        R.ADMIN_RESEAU.code: "r",
        R.SUPERVISEUR_RESEAU.code: "r",
        R.ADMIN_ORGANISME.code: "r",
        R.UTILISATEUR_ORGANISME.code: "r",
        R.ADMIN_ETABLISSEMENT.code: "r",
        R.UTILISATEUR_ETABLISSEMENT.code: "r",
    },
    # « Mes exports »: the exports a user asked for on the Stats tab (services/exports.py),
    # each seen and downloaded by its owner only; the roles that ask for them (« Stats »).
    "Export": {
        R.CERTIF_PRO.code: "r",
        R.ADMIN_RESEAU.code: "r",
        R.ADMIN_ORGANISME.code: "r",
    },
}


def rights(role: R.RoleDef | None, resource: str) -> set[str]:
    if role is None:
        return set()
    return {_LETTERS[c] for c in MATRIX.get(resource, {}).get(role.code, "")}


def allowed(role: R.RoleDef | None, resource: str, right: str) -> bool:
    return right in rights(role, resource)


@dataclass(frozen=True)
class MenuItem:
    name: str  # FAB menu name (permission key); stable, French
    label: object
    category: str
    resource: str
    icon: str
    right: str = READ  # the right on `resource` that shows the menu item


CATEGORY_GESTION = "Gestion"
CATEGORY_EVALUATIONS = "Évaluations"
CATEGORY_CERTIFICATION = "Certification"
CATEGORY_STATS = "Stats"
CATEGORY_LABELS = {CATEGORY_GESTION: _l("Gestion"), CATEGORY_EVALUATIONS: _l("Évaluations"),
                   CATEGORY_CERTIFICATION: _l("Certification"), CATEGORY_STATS: _l("Stats")}

MENU: tuple[MenuItem, ...] = (
    MenuItem("Dossiers", _l("Évaluations"), CATEGORY_EVALUATIONS, "Candidature",
             "fa-folder-open"),
    MenuItem("Candidatures abandonnées", _l("Candidatures abandonnées"), CATEGORY_EVALUATIONS,
             "Candidature", "fa-archive"),
    MenuItem("Formations", _l("Formations"), CATEGORY_EVALUATIONS, "Candidature",
             "fa-graduation-cap"),
    MenuItem("Calendrier des jurys", _l("Calendrier des jurys"), CATEGORY_CERTIFICATION,
             "Calendrier", "fa-calendar"),
    MenuItem("Sessions de jury", _l("Sessions de jury"), CATEGORY_CERTIFICATION, "SessionJury",
             "fa-gavel"),
    MenuItem("Envois de certificats", _l("Envois de certificats"), CATEGORY_CERTIFICATION,
             "EnvoiCertificat", "fa-truck"),
    MenuItem("Statistiques", _l("Stats"), CATEGORY_STATS, "Stats",
             "fa-bar-chart"),
    MenuItem("Mon réseau", _l("Mon réseau"), CATEGORY_GESTION, "Reseau", "fa-sitemap"),
    MenuItem("Mes organismes", _l("Mes organismes"), CATEGORY_GESTION, "Organisme", "fa-building"),
    MenuItem("Mes établissements", _l("Mes établissements"), CATEGORY_GESTION, "Etablissement",
             "fa-map-marker"),
    MenuItem("Mes utilisateurs", _l("Mes utilisateurs"), CATEGORY_GESTION, "Utilisateur",
             "fa-users"),
    MenuItem("Habilitations", _l("Habilitations"), CATEGORY_GESTION, "Habilitation",
             "fa-certificate"),
    MenuItem("Mes demandes de rattachement", _l("Mes demandes de rattachement"),
             CATEGORY_GESTION, "Rattachement", "fa-key"),
    MenuItem("E-mails envoyés", _l("E-mails envoyés"), CATEGORY_GESTION, "EmailEnvoye",
             "fa-envelope"),
    MenuItem("Référentiel", _l("Référentiel"), CATEGORY_GESTION, "Referentiel", "fa-book"),
    MenuItem("Actualités", _l("Actualités"), CATEGORY_GESTION, "Actualite", "fa-newspaper-o",
             CREATE),
    MenuItem("Motifs types", _l("Motifs types"), CATEGORY_GESTION, "MotifType", "fa-list-ul",
             CREATE),
    MenuItem("Journal d'audit", _l("Journal d'audit"), CATEGORY_GESTION, "Audit", "fa-history"),
)


def menu_visible(role: R.RoleDef | None, item: MenuItem) -> bool:
    return allowed(role, item.resource, item.right)


# FAB's own screens every business role may open: the API documentation.
COMMON_FAB_PERMISSIONS = {("can_get", "OpenApi"), ("can_show", "SwaggerView")}
# What anyone may read without logging in (FAB's Public role): the API's OpenAPI document,
# which an integrator reads before having an account.
# the API's document and its Swagger UI page: an integrator reads them before having an account
PUBLIC_FAB_PERMISSIONS = {("can_get", "OpenApi"), ("can_show", "SwaggerView")}


def fab_permissions(role: R.RoleDef) -> set[tuple[str, str]]:
    """The (permission, view_menu) pairs FAB needs for this role."""
    pairs: set[tuple[str, str]] = set(COMMON_FAB_PERMISSIONS)
    for resource in MATRIX:
        for right in rights(role, resource):
            pairs.add((f"can_{right}", resource))
    categories = set()
    for item in MENU:
        if menu_visible(role, item):
            pairs.add(("menu_access", item.name))
            categories.add(item.category)
    for category in categories:
        pairs.add(("menu_access", category))
    return pairs


# HTTP method names of FAB views/APIs → our rights
VIEW_METHOD_PERMISSIONS = {
    "list": READ,
    "show": READ,
    "add": CREATE,
    "edit": UPDATE,
    "delete": DELETE,
    "download": READ,
    "action": UPDATE,
    "action_post": UPDATE,
}
API_METHOD_PERMISSIONS = {
    "get": READ,
    "get_list": READ,
    "info": READ,
    "post": CREATE,
    "put": UPDATE,
    "delete": DELETE,
}
