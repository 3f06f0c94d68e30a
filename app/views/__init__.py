"""Register every screen; menus come from security.matrix.MENU (one table)."""
from __future__ import annotations

from app.security import matrix

from .account import CompteView, ProfilView, register_error_pages
from .email import EmailEnvoyeView
from .lookup import LookupView
from .structure import EtablissementsOrganismeView, EtablissementView, OrganismeView, ReseauView
from .utilisateur import UtilisateurView

VIEW_OF_MENU = {
    "Mon réseau": ReseauView,
    "Mes organismes": OrganismeView,
    "Mes établissements": EtablissementView,
    "Mes utilisateurs": UtilisateurView,
    "E-mails envoyés": EmailEnvoyeView,
}


def register_views(appbuilder) -> None:
    for item in matrix.MENU:
        appbuilder.add_view(
            VIEW_OF_MENU[item.name],
            item.name,
            label=item.label,
            icon=item.icon,
            category=item.category,
            category_label=matrix.CATEGORY_LABELS[item.category],
        )
    appbuilder.add_view_no_menu(EtablissementsOrganismeView)
    appbuilder.add_view_no_menu(CompteView)
    appbuilder.add_view_no_menu(ProfilView)
    appbuilder.add_view_no_menu(LookupView)
    from flask import current_app

    register_error_pages(current_app._get_current_object())
