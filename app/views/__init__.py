"""Register every screen; menus come from security.matrix.MENU (one table)."""
from __future__ import annotations

from flask import current_app

from app.security import matrix

from .audit import AuditView
from .account import CompteView, ProfilView, register_error_pages
from .actualites import ActualiteView
from .certification import CalendrierView, EmetteurView, EnvoisView, SessionsJuryView, VerifierView
from .candidatures import AbandonneesView, CandidatureView, DossiersView, RechercheView
from .imports import ImportView
from .deux_facteurs import register as register_deux_facteurs
from .email import EmailEnvoyeView
from .evaluations import EvaluationView
from .formations import FormationsListeView, FormationsView
from .habilitations import (AnnuaireView, HabilitationsADeciderView,
                             HabilitationsEtablissementView, HabilitationView)
from .lookup import LookupView
from .menu import menu_html
from .motifs import MotifTypeView
from . import translations
from .rattachements import RattachementsView
from .referentiel import ReferentielView
from .rgpd import DonneesPersonnellesView
from .notifications import NotificationsView, bell_context
from .exports import ExportsView
from .pages import keyset_url, page_url, pk_url
from .stats import StatsView
from .support import SupportView
from .structure import EtablissementsOrganismeView, EtablissementView, OrganismeView, ReseauView
from .utilisateur import UtilisateurView

VIEW_OF_MENU = {
    "Dossiers": DossiersView,
    "Candidatures abandonnées": AbandonneesView,
    "Formations": FormationsListeView,
    "Mon réseau": ReseauView,
    "Mes organismes": OrganismeView,
    "Mes établissements": EtablissementView,
    "Mes utilisateurs": UtilisateurView,
    "Habilitations": HabilitationView,
    "Mes demandes de rattachement": RattachementsView,
    "E-mails envoyés": EmailEnvoyeView,
    "Actualités": ActualiteView,
    "Référentiel": ReferentielView,
    "Calendrier des jurys": CalendrierView,
    "Sessions de jury": SessionsJuryView,
    "Envois de certificats": EnvoisView,
    "Statistiques": StatsView,
    "Motifs types": MotifTypeView,
    "Journal d'audit": AuditView,
}


def register_views(appbuilder) -> None:
    for item in matrix.MENU:
        appbuilder.add_view(
            VIEW_OF_MENU[item.name],
            item.name,
            label=item.label,
            icon=item.icon,
            # « Stats » is a tab of its own (guide §7): a top-level link, not a dropdown
            category="" if item.category == matrix.CATEGORY_STATS else item.category,
            category_label=matrix.CATEGORY_LABELS[item.category],
            menu_cond=_evaluations_open if item.category == matrix.CATEGORY_EVALUATIONS else None,
        )
    appbuilder.add_view_no_menu(CandidatureView)
    appbuilder.add_view_no_menu(ImportView)
    appbuilder.add_view_no_menu(EvaluationView)
    appbuilder.add_view_no_menu(FormationsView)
    appbuilder.add_view_no_menu(RechercheView)
    appbuilder.add_view_no_menu(EtablissementsOrganismeView)
    appbuilder.add_view_no_menu(HabilitationsEtablissementView)
    appbuilder.add_view_no_menu(HabilitationsADeciderView)
    appbuilder.add_view_no_menu(AnnuaireView)
    appbuilder.add_view_no_menu(EmetteurView)
    verifier = appbuilder.add_view_no_menu(VerifierView)
    appbuilder.sm.limiter.limit(lambda: current_app.config["CLEA_VERIFY_RATE_LIMIT"])(
        verifier.blueprint)
    appbuilder.add_view_no_menu(CompteView)
    appbuilder.add_view_no_menu(ProfilView)
    appbuilder.add_view_no_menu(LookupView)
    appbuilder.add_view_no_menu(NotificationsView)
    appbuilder.add_view_no_menu(ExportsView)
    appbuilder.add_view_no_menu(SupportView)
    register_deux_facteurs(appbuilder)
    appbuilder.add_view_no_menu(DonneesPersonnellesView)
    app = current_app._get_current_object()
    register_error_pages(app)
    app.context_processor(bell_context)
    app.add_template_global(page_url)
    app.add_template_global(keyset_url)
    app.add_template_global(pk_url)
    app.add_template_global(cle_formulaire)
    app.add_template_global(menu_html, "clea_menu")
    translations.install(app)
    # French formatting shared by every template: « qu'Administrateur », « 14 h », « décembre 2026 »
    from app.services import formats

    app.jinja_env.filters.update(formats.FILTERS)
    app.jinja_env.globals.update(formats.GLOBALS)


def cle_formulaire() -> str:
    """A fresh idempotency key for an upload form, one per display (hidden field
    « idempotency_key »): the same form sent twice stores its files once."""
    import uuid

    return uuid.uuid4().hex


def _evaluations_open() -> bool:
    """The Évaluations (and later Formations) tabs need a valid habilitation."""
    from app.security.perimeter import actor
    from app.services.habilitations import peut_evaluer

    return peut_evaluer(actor())
