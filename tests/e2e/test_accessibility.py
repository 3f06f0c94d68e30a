"""axe-core on every page of the main journeys, for the roles that use them, management
screens included: no "serious" or "critical" violation.

axe.min.js ships with axe-playwright-python (no network). Moderate/minor findings are left
to review. The pages that need data (a draft grid, a formation, a rattachement request, a
news item, a stored e-mail) get it once, from the services, on a dossier of their own; ids
are looked up, never assumed."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")
UNKNOWN_CERTIFICATE = "/verifier/CLEA-2000-000001"

PAGES = [
    # Public pages.
    pytest.param(None, "/login/", id="connexion"),
    pytest.param(None, "/compte/mot-de-passe-oublie", id="mot-de-passe-oublie"),
    pytest.param(None, "/annuaire/", id="annuaire"),
    pytest.param(None, "/verifier/", id="verification-formulaire"),
    pytest.param(None, "/verifier/{numero}", id="verification-certificat"),
    pytest.param(None, "/verifier/CLEA-2000-000001", id="verification-inconnue"),  # 404
    # The home page of every role (menus and dashboards differ).
    *[pytest.param(user, "/", id=f"accueil-{user}") for user in (
        "certifpro", "admin.reseau", "superviseur.reseau", "admin.organisme",
        "utilisateur.organisme", "admin.etablissement", "utilisateur.etablissement", "jury")],
    # Évaluations: list, dossier, its form, the grid, formations, search, rattachements.
    pytest.param("admin.reseau", "/evaluations/", id="evaluations"),
    pytest.param("admin.reseau", "/evaluations/abandonnees/", id="candidatures-abandonnees"),
    pytest.param("admin.reseau", "/candidature/{dossier_certifie}", id="dossier-certifie"),
    pytest.param("admin.reseau", "/candidature/{dossier_a_envoyer}", id="dossier-a-envoyer"),
    pytest.param("admin.reseau", "/candidature/{dossier_brouillon}", id="dossier-en-cours"),
    pytest.param("admin.reseau", "/candidature/{dossier_brouillon}/modifier", id="modifier-dossier"),
    pytest.param("utilisateur.organisme", "/candidature/nouvelle", id="proposer-candidature"),
    pytest.param("admin.reseau", "/evaluation/{grille_brouillon}", id="grille-en-cours"),
    pytest.param("admin.reseau", "/evaluation/{grille_finalisee}", id="grille-finalisee"),
    pytest.param("admin.reseau", "/formations/", id="formations"),
    pytest.param("admin.reseau", "/formations/dossier/{dossier_brouillon}", id="formations-dossier"),
    pytest.param("utilisateur.organisme", "/recherche/?q=du", id="recherche"),
    pytest.param("utilisateur.organisme", "/rattachements/", id="rattachements"),
    pytest.param("utilisateur.organisme", "/rattachements/demander/{dossier_a_demander}",
                 id="demander-rattachement"),
    pytest.param("certifpro", "/rattachements/{rattachement}", id="decision-rattachement"),
    # Certification: calendar, sessions, a session, a jury's dossier, shipments.
    pytest.param("utilisateur.etablissement", "/certification/", id="calendrier-jurys"),
    pytest.param("jury", "/jury/", id="sessions-jury"),
    pytest.param("certifpro", "/jury/", id="sessions-certifpro"),
    pytest.param("certifpro", "/jury/nouvelle", id="programmer-session"),
    pytest.param("certifpro", "/jury/session/{session}", id="session-jury"),
    pytest.param("certifpro", "/jury/dossier/{dossier_certifie}", id="dossier-jury"),
    pytest.param("certifpro", "/envois/", id="envois-certificats"),
    # Stats, notifications, profile, support.
    pytest.param("certifpro", "/stats/", id="statistiques-certifpro"),
    pytest.param("admin.organisme", "/stats/", id="statistiques-organisme"),
    pytest.param("admin.organisme", "/notifications/?lu=tous", id="notifications"),
    pytest.param("certifpro", "/notifications/?lu=tous", id="notifications-certifpro"),
    pytest.param("admin.organisme", "/profil/", id="profil"),
    pytest.param("admin.organisme", "/aide/", id="aide-contact"),
    # Management screens (FAB's generated list / show / edit / add, and ours).
    pytest.param("admin.reseau", "/reseauview/list/", id="mon-reseau"),
    pytest.param("admin.reseau", "/reseauview/show/{reseau}", id="fiche-reseau"),
    pytest.param("admin.reseau", "/reseauview/edit/{reseau}", id="modifier-reseau"),
    pytest.param("admin.reseau", "/organismeview/list/", id="liste-organismes"),
    pytest.param("admin.reseau", "/organismeview/show/{organisme}", id="fiche-organisme"),
    pytest.param("admin.reseau", "/organismeview/edit/{organisme}", id="modifier-organisme"),
    pytest.param("admin.reseau", "/organismeview/add", id="formulaire-organisme"),
    pytest.param("admin.reseau", "/etablissementview/list/", id="liste-etablissements"),
    pytest.param("admin.reseau", "/etablissementview/show/{etablissement}", id="fiche-etablissement"),
    pytest.param("admin.reseau", "/etablissementview/edit/{etablissement}",
                 id="modifier-etablissement"),
    pytest.param("admin.reseau", "/etablissementview/add", id="formulaire-etablissement"),
    pytest.param("admin.reseau", "/utilisateurview/list/", id="liste-utilisateurs"),
    pytest.param("admin.reseau", "/utilisateurview/show/{utilisateur}", id="fiche-utilisateur"),
    pytest.param("admin.reseau", "/utilisateurview/edit/{utilisateur}", id="modifier-utilisateur"),
    pytest.param("admin.reseau", "/utilisateurview/add", id="formulaire-utilisateur"),
    pytest.param("certifpro", "/habilitationview/list/", id="habilitations"),
    pytest.param("certifpro", "/habilitationview/show/{habilitation_en_attente}",
                 id="decision-habilitation"),
    pytest.param("certifpro", "/habilitationview/show/{habilitation_validee}",
                 id="fiche-habilitation"),
    pytest.param("certifpro", "/actualiteview/list/", id="actualites"),
    pytest.param("certifpro", "/actualiteview/show/{actualite}", id="fiche-actualite"),
    pytest.param("certifpro", "/actualiteview/edit/{actualite}", id="modifier-actualite"),
    pytest.param("certifpro", "/actualiteview/add", id="formulaire-actualite"),
    pytest.param("certifpro", "/emailenvoyeview/list/", id="emails-envoyes"),
    pytest.param("certifpro", "/emailenvoyeview/show/{email}", id="fiche-email"),
    pytest.param("certifpro", "/referentiel/", id="referentiel"),
]

_IDS: dict = {}


@pytest.fixture
def ids(live_app):
    """The ids of the rows the pages show, prepared once for the session."""
    if not _IDS:
        with live_app.test_request_context():
            _IDS.update(_prepare())
            from app.extensions import db

            db.session.remove()
    return _IDS


def _prepare() -> dict:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import (Candidat, Candidature, Certificat, EmailMessage,
                            Etablissement, Habilitation, Organisme, Reseau, Utilisateur)
    from app.services import accounts, actualites, candidatures, evaluations, rattachements

    def one(model, **by):
        return db.session.scalars(select(model).filter_by(**by)).one()

    def dossier(nom):
        return db.session.scalars(select(Candidature).join(Candidat).where(
            Candidat.nom_naissance == nom)).one()

    lyon = one(Etablissement, nom="LA BOETIE Lyon")
    paris = one(Etablissement, nom="FORMAPLUS Paris")
    certifpro = one(Utilisateur, username="certifpro")
    # A dossier of its own: a draft préalable on the grid, a formation, a rattachement request.
    cand = candidatures.creer({
        "etablissement_id": lyon.id, "civilite": "Mme", "nom_naissance": "Rousseau",
        "prenoms": "Inès", "date_naissance": "1990-04-08", "commune_naissance": "Vienne",
        "statut_inscription": "salarie",
        "objectif_pro": "Obtenir la certification pour évoluer vers un poste de cheffe d'équipe.",
        "objectif_extra_pro": "Accompagner la scolarité de ses enfants."}, by=None)
    brouillon = evaluations.creer(cand, None)
    evaluations.ajouter_formation(cand, {
        "intitule": "Remise à niveau en calcul", "organisme_formateur": "LA BOETIE Lyon",
        "formateur": "Paul Girard", "date_debut": "2026-01-05", "date_fin": "2026-01-30",
        "duree_heures": "14", "modalite": "presentiel"}, None)
    demande = rattachements.demander(cand.id, {
        "etablissement_cible_id": paris.id, "motif": "demenagement",
        "motif_texte": "La candidate s'installe à Paris."},
        one(Utilisateur, username="utilisateur.organisme"))
    hier = dt.date.today() - dt.timedelta(days=1)
    # Expired: listed in Gestion → Actualités, shown on nobody's home page.
    news = actualites.create({"titre": "Maintenance du 15 novembre", "texte": "Coupure de 2 h.",
                              "publie_le": (hier - dt.timedelta(days=7)).isoformat(),
                              "expire_le": hier.isoformat()}, certifpro)
    accounts.send_reset_email(one(Utilisateur, username="admin.organisme"), certifpro)
    certifie = dossier("Lambert")
    faure = dossier("Faure")
    numero = db.session.scalars(select(Certificat.numero).where(
        Certificat.candidature_id == certifie.id)).one()
    return {
        "numero": numero,
        "dossier_certifie": certifie.id,
        "dossier_a_envoyer": dossier("Chevalier").id,
        # outside the perimeter, the key icon's link carries the search hit's handle
        "dossier_a_demander": "{0}?jeton={1}".format(faure.id, rattachements.jeton(
            faure.id, one(Utilisateur, username="utilisateur.organisme"))),
        "dossier_brouillon": cand.id,
        "grille_brouillon": brouillon.id,
        "grille_finalisee": evaluations.derniere_finalisee(certifie).id,
        "rattachement": demande.id,
        "session": certifie.session_jury_id,
        "reseau": db.session.scalars(select(Reseau.id)).first(),
        "organisme": one(Organisme, raison_sociale="LA BOETIE").id,
        "etablissement": lyon.id,
        "utilisateur": one(Utilisateur, username="admin.organisme").id,
        "habilitation_en_attente": db.session.scalars(select(Habilitation.id).where(
            Habilitation.statut == "en_attente")).first(),
        "habilitation_validee": db.session.scalars(select(Habilitation.id).where(
            Habilitation.statut == "validee")).first(),
        "actualite": news.id,
        "email": db.session.scalars(select(EmailMessage.id).order_by(
            EmailMessage.id.desc())).first(),
    }


@pytest.fixture(scope="session")
def axe():
    return Axe()


def describe(violations) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:5])
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']}) → {targets}")
    return "\n".join(lines)


def blocking(axe, page) -> list:
    results = axe.run(page)
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


@pytest.mark.parametrize("username, path", PAGES)
def test_no_serious_accessibility_violation(page, sign_in, axe, ids, username, path):
    if username:
        sign_in(page, username)
    path = path.format(**ids)
    response = page.goto(path)
    page.wait_for_load_state("load")
    expected = 404 if path == UNKNOWN_CERTIFICATE else 200  # the page says « inconnu »
    assert response.status == expected, f"{path} : HTTP {response.status}"
    # not redirected elsewhere (a role without the right lands on the login or home page)
    assert urlsplit(page.url).path == urlsplit(path).path, f"{path} → {page.url}"
    bad = blocking(axe, page)
    assert not bad, f"axe sur {path} :\n{describe(bad)}"


PHONE_PAGES = [
    pytest.param(None, "/annuaire/", id="annuaire-375"),
    pytest.param("utilisateur.etablissement", "/certification/", id="calendrier-375"),
    pytest.param("admin.reseau", "/evaluations/", id="evaluations-375"),
    pytest.param("admin.reseau", "/candidature/{dossier_certifie}", id="dossier-375"),
    pytest.param("certifpro", "/jury/dossier/{dossier_certifie}", id="dossier-jury-375"),
    pytest.param("certifpro", "/stats/", id="statistiques-375"),
    pytest.param("admin.reseau", "/utilisateurview/list/", id="liste-utilisateurs-375"),
    pytest.param("admin.reseau", "/utilisateurview/show/{utilisateur}", id="fiche-utilisateur-375"),
]


@pytest.mark.parametrize("username, path", PHONE_PAGES)
def test_no_serious_violation_at_phone_width(page, sign_in, axe, ids, username, path):
    """At 375 px, wide tables and charts scroll inside their wrapper, which the keyboard reaches."""
    page.set_viewport_size({"width": 375, "height": 800})
    if username:
        sign_in(page, username)
    page.goto(path.format(**ids))
    page.wait_for_load_state("load")
    bad = blocking(axe, page)
    assert not bad, f"axe sur {path} à 375 px :\n{describe(bad)}"


def test_open_menus_have_no_serious_violation(page, sign_in, axe):
    """The navigation's dropdowns (bell, user menu, a tab) once opened, at desktop width."""
    sign_in(page, "admin.organisme")
    for toggle in ("#clea-bell", "#clea-user-menu",
                   ".clea-navbar .navbar-nav:not(.navbar-right) > li.dropdown > a"):
        page.locator(toggle).first.click()
        bad = blocking(axe, page)
        assert not bad, f"axe, menu {toggle} ouvert :\n{describe(bad)}"
        page.keyboard.press("Escape")


def test_phone_menu_has_no_serious_violation(page, sign_in, axe):
    """At 375 px: the collapsed menu opened, then its first tab (entries on the blue bar)."""
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "admin.organisme")
    page.get_by_role("button", name="Afficher le menu").click()
    page.locator(".clea-navbar .navbar-collapse.collapse.in").wait_for()  # transition over
    tab = page.locator(".clea-navbar .navbar-collapse li.dropdown > a.dropdown-toggle").first
    tab.click()
    page.locator(".clea-navbar .navbar-collapse li.dropdown.open .dropdown-menu a").first \
        .wait_for(state="visible")
    bad = blocking(axe, page)
    assert not bad, f"axe, menu du téléphone ouvert :\n{describe(bad)}"
