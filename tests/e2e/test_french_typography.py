"""French and layout as a user sees them in the browser: « en tant qu'Administrateur »,
« À envoyer », « 14 h », months by name in Stats, full chart labels, links underlined, the
navigation on one line at 1366 px whatever the role, no sideways scrolling at 375 px.
(Contrast is checked by axe in test_accessibility.py.) Screenshots at both widths go to
test-artifacts/screenshots/."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
        "octobre", "novembre", "décembre")
# One line of Bootstrap's navbar is 50 px (51 with its border); two lines are about 100.
ONE_LINE = 60

LIST_PAGES = [
    ("admin.reseau", "/evaluations/"),
    ("admin.reseau", "/evaluations/abandonnees/"),
    ("admin.reseau", "/formations/"),
    ("utilisateur.organisme", "/rattachements/"),
    ("utilisateur.organisme", "/recherche/?q=du"),
    ("admin.organisme", "/notifications/?lu=tous"),
    ("certifpro", "/jury/"),
    ("certifpro", "/envois/"),
    ("certifpro", "/stats/"),
    ("admin.reseau", "/reseauview/list/"),
    ("admin.reseau", "/organismeview/list/"),
    ("admin.reseau", "/etablissementview/list/"),
    ("admin.reseau", "/utilisateurview/list/"),
    ("certifpro", "/habilitationview/list/"),
    ("certifpro", "/actualiteview/list/"),
    ("certifpro", "/emailenvoyeview/list/"),
    (None, "/annuaire/"),
]


def _sideways(page) -> tuple[int, int]:
    return page.evaluate("() => [document.documentElement.scrollWidth, "
                         "document.documentElement.clientWidth]")


def _navbar_height(page) -> float:
    return page.locator("nav.clea-navbar").bounding_box()["height"]


def test_home_page_elides_en_tant_qu(page, sign_in, shoot):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "admin.organisme")
    lead = page.locator("main p.lead")
    expect(lead).to_contain_text("Vous êtes connecté en tant qu'Administrateur organisme")
    expect(lead).not_to_contain_text("que Administrateur")
    shoot(page, "accueil-administrateur-1366")


def test_status_a_envoyer_and_months_by_name(page, sign_in, shoot):
    sign_in(page, "admin.reseau")
    page.goto("/evaluations/")
    row = page.locator("main table tbody tr", has_text="CHEVALIER")
    expect(row).to_contain_text("À envoyer en certification")
    assert not re.search(r"\bA envoyer", page.locator("main").inner_text())

    page.goto("/stats/")
    today = dt.date.today()  # the demo's dossiers were created today
    flux = page.locator("main table", has=page.locator("th", has_text="Mois"))
    expect(flux.locator("tbody th").first).to_have_text(f"{MOIS[today.month - 1]} {today.year}")
    assert not re.search(r"\b\d{4}-\d{2}\b", flux.inner_text())
    # a long label of a chart is shown in full (it was cut at 42 characters)
    chart = page.locator("figure", has=page.locator("figcaption", has_text="Abandons par motif"))
    label = " ".join(chart.locator("svg").text_content().split())
    assert "Abandon automatique : plus de 5 ans après l'évaluation préalable" in label
    assert "…" not in label
    shoot(page, "stats-1366")


def test_formation_hours_without_decimal(page, sign_in, live_app):
    with live_app.test_request_context():
        from app.extensions import db
        from app.models import Etablissement
        from app.services import candidatures, evaluations

        lyon = db.session.query(Etablissement).filter_by(nom="LA BOETIE Lyon").one()
        cand = candidatures.creer({
            "etablissement_id": lyon.id, "civilite": "M.", "nom_naissance": "Perrin",
            "prenoms": "Julien", "date_naissance": "1979-09-23", "commune_naissance": "Lyon",
            "statut_inscription": "demandeur_emploi",
            "objectif_pro": "Reprendre un emploi de magasinier avec une certification reconnue.",
            "objectif_extra_pro": "Gagner en aisance avec les démarches en ligne."}, by=None)
        for heures, intitule in (("14", "Remise à niveau en français"),
                                 ("3,5", "Atelier numérique")):
            evaluations.ajouter_formation(cand, {
                "intitule": intitule, "organisme_formateur": "LA BOETIE Lyon",
                "formateur": "Anne Roux", "date_debut": "2026-02-02", "date_fin": "2026-02-27",
                "duree_heures": heures, "modalite": "presentiel"}, None)
        pk = cand.id
        db.session.remove()
    sign_in(page, "admin.reseau")
    page.goto(f"/formations/dossier/{pk}")
    main = page.locator("main")
    expect(main).to_contain_text("14 h")
    expect(main).to_contain_text("3,5 h")
    expect(main).not_to_contain_text("14.0")
    expect(main).not_to_contain_text("3.5 h")


def test_links_inside_text_are_underlined(page, sign_in):
    sign_in(page, "admin.reseau")
    page.goto("/evaluations/?nom=lambert")
    page.locator("main table tbody tr", has_text="LAMBERT").locator("a[href*='/candidature/']") \
        .first.click()
    link = page.locator("main li a", has_text="matrice").first  # « matrice.xlsx (matrice, 18 Ko) »
    assert "underline" in link.evaluate("a => getComputedStyle(a).textDecorationLine")


@pytest.mark.parametrize("username", ["admin.etablissement", "admin.organisme"])
def test_navbar_on_one_line_at_1366(page, sign_in, shoot, username):
    """« Administrateur établissement » is the longest role name; « Administrateur organisme »
    has the most tabs (Évaluations, Certification, Stats, Gestion)."""
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, username)
    assert _navbar_height(page) <= ONE_LINE
    label = page.locator("#clea-user-menu .clea-user-label")
    expect(label).to_contain_text("(Administrateur ")
    # the demo's names and roles are shown whole (only a longer one is shortened)
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert _sideways(page)[0] <= 1366
    shoot(page, f"navigation-{username}-1366")


def test_navbar_on_one_line_with_a_long_name(page, sign_in, live_app):
    with live_app.test_request_context():
        from app.extensions import db
        from app.models import Organisme
        from app.services import accounts

        formaplus = db.session.query(Organisme).filter_by(raison_sociale="FORMAPLUS").one()
        accounts.create_user({
            "username": "marie-charlotte", "email": "mc.latour@exemple.fr",
            "first_name": "Marie-Charlotte", "last_name": "de La Tour-Montgolfier",
            "role": "Administrateur organisme", "organisme_id": formaplus.id},
            None, password="CleaDemo2026!")
        db.session.remove()
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "marie-charlotte")
    assert _navbar_height(page) <= ONE_LINE
    label = page.locator("#clea-user-menu .clea-user-label")
    # shortened with an ellipsis, the whole text kept in its title
    expect(label).to_have_attribute(
        "title", "Marie-Charlotte de La Tour-Montgolfier (Administrateur organisme)")
    assert _sideways(page)[0] <= 1366


@pytest.mark.parametrize("username, path", LIST_PAGES)
def test_no_sideways_scroll_at_phone_width(page, sign_in, shoot, username, path):
    page.set_viewport_size({"width": 375, "height": 800})
    if username:
        sign_in(page, username)
    page.goto(path)
    page.wait_for_load_state("load")
    scroll_width, client_width = _sideways(page)
    assert scroll_width <= client_width, f"{path} défile de côté à 375 px ({scroll_width} px)"
    shoot(page, f"375-{username or 'public'}-{path}")
