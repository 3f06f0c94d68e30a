"""Habilitation journey: an administrateur organisme creates a site and asks for its
habilitation; Certif Pro validates it with dates; the site's user no longer sees the warning
that closes the Évaluations and Formations tabs."""
from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect
from stdnum import luhn

from .ui import choose_select2, confirm, panel_title

SIREN_FORMAPLUS = "812345676"
WARNING = "n'a pas d'habilitation CléA valide"


def test_request_then_validation_opens_the_tabs(page, sign_in, live_app, shoot):
    sign_in(page, "admin.organisme")
    page.goto("/etablissementview/add")
    choose_select2(page, "organisme", "FORMAPLUS")
    page.locator("main #nom").fill("FORMAPLUS Versailles")
    base = SIREN_FORMAPLUS + "0777"
    page.locator("main #siret").fill(base + luhn.calc_check_digit(base))
    choose_select2(page, "region", "Île-de-France")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(panel_title(page)).to_have_text("Visualiser l'établissement")
    etab_url = page.url

    with live_app.app_context():  # the site's user, created as an administrator would
        from app.extensions import db
        from app.models import Etablissement
        from app.services import accounts

        etab = db.session.query(Etablissement).filter_by(nom="FORMAPLUS Versailles").one()
        accounts.create_user({"username": "ue.versailles", "first_name": "Victor",
                              "last_name": "Hugo", "email": "victor@formaplus.fr",
                              "role": "utilisateur_etablissement",
                              "etablissement_id": etab.id}, by=None,
                             password="Versailles-2026!")
        db.session.remove()

    page.get_by_role("link", name="Habilitation(s) en cours").click()
    page.locator("#HabilitationsEtablissementView a[href*='/habilitationsetablissementview/add']"
                 ).click()
    expect(panel_title(page)).to_have_text("Faire une demande d'habilitation")
    choose_select2(page, "portee", "CléA socle — demande à Certif Pro")
    shoot(page, "demande-habilitation")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".clea-flashes")).to_contain_text("Votre demande est envoyée")
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    sign_in(page, "ue.versailles", "Versailles-2026!")
    expect(page.locator("main")).to_contain_text(WARNING)
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("button", name="Évaluations")).to_have_count(0)
    assert page.goto("/evaluations/").status == 403
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    sign_in(page, "certifpro")
    expect(page.locator("#clea-bell .clea-bell-count")).not_to_have_text("0")
    page.goto("/habilitationview/list/")
    page.locator("main table tr", has_text="FORMAPLUS Versailles").locator(
        "a[href*='/habilitationview/show/']").first.click()
    today = dt.date.today()
    page.locator("#date_debut").fill(today.isoformat())
    page.locator("#date_fin").fill((today + dt.timedelta(days=3 * 365)).isoformat())
    shoot(page, "decision-habilitation")
    page.get_by_role("button", name="Valider").click()
    confirm(page, "Valider")
    expect(page.locator(".clea-flashes")).to_contain_text("La décision est enregistrée")
    expect(page.locator("main")).to_contain_text("Validée")
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    sign_in(page, "ue.versailles", "Versailles-2026!")
    expect(page.locator("main")).not_to_contain_text(WARNING)
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("button", name="Évaluations").click()
    nav.get_by_role("link", name="Évaluations", exact=True).click()
    expect(panel_title(page)).to_have_text("Évaluations")
    shoot(page, "onglet-evaluations")
    page.goto(etab_url)
    page.get_by_role("link", name="Habilitation(s) en cours").click()
    expect(page.locator("#HabilitationsEtablissementView")).to_contain_text("Validée")
    page.goto("/annuaire/?region=IDF")
    expect(page.locator("main table")).to_contain_text("FORMAPLUS Versailles")
    assert page.js_errors == []
