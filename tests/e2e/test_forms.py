"""Refused forms in the browser (issue 12, item 3): the error summary is shown and takes the
focus, its links lead to the fields, what was typed stays; the « Mon profil » pop-up
(item 4) holds the profile form alone, closes with its button or Escape, and saves in place."""
from __future__ import annotations

import datetime as dt

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .ui import choose_select2, confirm, panel_title

BLOCKING = ("serious", "critical")


def assert_accessible(page):
    """axe-core finds no serious or critical violation in the page as it is now."""
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
    assert not violations, "\n".join(f"{v['id']}: {v['help']} → "
                                      f"{[n['target'] for n in v['nodes'][:3]]}"
                                      for v in violations)


def active_element_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_refused_candidature_focuses_the_summary_and_keeps_the_input(page, sign_in, shoot):
    sign_in(page, "utilisateur.organisme")
    page.goto("/candidature/nouvelle")
    expect(panel_title(page)).to_have_text("Proposer une candidature")
    form = page.locator("main form")
    commune = form.locator("label[for=commune_naissance]")
    expect(commune.locator(".clea-required")).to_have_count(1)
    expect(form.locator("#objectif_pro-regle")).to_have_text("30 caractères minimum.")
    form.locator("#civilite").select_option("M.")
    form.locator("#nom_naissance").fill("Fontaine")
    form.locator("#prenoms").fill("Yanis")
    form.locator("#date_naissance").fill("1990-06-02")
    form.locator("#statut_inscription").select_option("demandeur_emploi")
    form.locator("#objectif_pro").fill("Un emploi")
    form.locator("#objectif_extra_pro").fill("Passer le permis de conduire et gagner en autonomie.")
    form.get_by_role("button", name="Enregistrer").click()

    summary = page.locator(".clea-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    assert active_element_id(page) == "clea-erreurs"
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#commune_naissance-erreur1")).to_contain_text(
        "Renseignez « Commune de naissance » ou « Pays de naissance")
    expect(page.locator("#objectif_pro-erreur1")).to_contain_text("au moins 30 caractères")
    expect(page.locator("#nom_naissance")).to_have_value("Fontaine")
    expect(page.locator("#prenoms")).to_have_value("Yanis")
    expect(page.locator("#date_naissance")).to_have_value("1990-06-02")
    expect(page.locator("#objectif_pro")).to_have_value("Un emploi")
    expect(page.locator("#statut_inscription")).to_have_value("demandeur_emploi")
    shoot(page, "formulaire-refuse-candidature")
    assert_accessible(page)
    summary.get_by_role("link", name="Renseignez « Commune de naissance »").click()
    expect(page.locator("#commune_naissance")).to_be_focused()
    assert page.js_errors == []


def test_refused_habilitation_decision_keeps_its_dates(page, sign_in, live_app, shoot):
    with live_app.app_context():  # a pending request of its own
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Etablissement
        from app.services import habilitations
        from app.services.errors import ServiceError

        pk = None
        for etab in db.session.scalars(select(Etablissement).order_by(Etablissement.id)):
            try:
                pk = habilitations.demander({"etablissement_id": etab.id}, None).id
                break
            except ServiceError:
                db.session.rollback()
        db.session.remove()
    assert pk is not None

    sign_in(page, "certifpro")
    page.goto(f"/habilitationview/show/{pk}")
    today = dt.date.today()
    debut, fin = today.isoformat(), (today - dt.timedelta(days=30)).isoformat()
    page.locator("#date_debut").fill(debut)
    page.locator("#date_fin").fill(fin)
    page.get_by_role("button", name="Valider").click()
    confirm(page, "Valider")  # an irreversible decision asks first (clea.js)
    summary = page.locator(".clea-error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#date_fin-erreur1")).to_contain_text(
        "La date de fin doit être postérieure à la date de début.")
    expect(page.locator("#date_debut")).to_have_value(debut)
    expect(page.locator("#date_fin")).to_have_value(fin)
    shoot(page, "decision-habilitation-refusee")
    assert_accessible(page)
    assert page.js_errors == []


def test_profile_popup_holds_the_form_alone_closes_and_saves(page, sign_in, shoot):
    sign_in(page, "superviseur.reseau")
    page.goto("/")

    def open_profile():
        page.locator("#clea-user-menu").click()
        page.get_by_role("link", name="Mon profil").click()
        modal = page.get_by_role("dialog", name="Mon profil")
        expect(modal).to_be_visible()
        expect(modal.locator("#modal-email")).to_be_visible()
        return modal

    modal = open_profile()
    expect(page.locator(".navbar")).to_have_count(1)
    expect(page.locator("footer")).to_have_count(1)
    expect(modal.locator("footer, .navbar, header")).to_have_count(0)
    close = modal.locator(".modal-header").get_by_role("button", name="Fermer")
    expect(close).to_be_visible()
    shoot(page, "profil-popup")
    close.click()
    expect(modal).to_be_hidden()

    modal = open_profile()
    page.keyboard.press("Escape")
    expect(modal).to_be_hidden()

    modal = open_profile()
    email = modal.locator("#modal-email")
    saved_email = email.input_value()
    email.fill("pas-une-adresse")
    modal.locator("#modal-telephone").fill("0102030405")
    modal.get_by_role("button", name="Enregistrer", exact=True).click()
    summary = modal.locator(".clea-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(modal.locator("#modal-email-erreur1")).to_be_visible()
    expect(modal.locator("#modal-email")).to_have_value("pas-une-adresse")
    expect(modal.locator("#modal-telephone")).to_have_value("0102030405")
    expect(page.locator(".navbar")).to_have_count(1)
    shoot(page, "profil-popup-erreur")
    assert_accessible(page)
    modal.locator("#modal-email").fill(saved_email)
    modal.get_by_role("button", name="Enregistrer", exact=True).click()
    success = modal.locator(".clea-profil-succes")
    expect(success).to_have_text("Vos informations sont enregistrées.")
    expect(success).to_be_focused()
    expect(modal.locator("#modal-telephone")).to_have_value("0102030405")
    shoot(page, "profil-popup-enregistre")
    modal.locator(".modal-footer").get_by_role("button", name="Fermer").click()
    expect(modal).to_be_hidden()
    assert page.js_errors == []


def test_refused_generated_form_focuses_the_summary(page, sign_in, shoot):
    """FAB's generated forms (here « Créer un établissement ») share the summary and the
    error next to the field."""
    sign_in(page, "admin.reseau")
    page.goto("/etablissementview/add")
    page.locator("#nom").fill("FORMAPLUS Lille")
    page.locator("#siret").fill("12345678901234")
    page.locator("main form").get_by_role("button", name="Enregistrer").click()
    summary = page.locator(".clea-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Région")
    expect(page.locator("#region-erreur1")).to_be_visible()
    expect(page.locator("#siret")).to_have_value("12345678901234")
    expect(page.locator("#nom")).to_have_value("FORMAPLUS Lille")
    expect(page.locator("label[for=region] .clea-required")).to_have_count(1)
    shoot(page, "formulaire-genere-refuse")
    assert_accessible(page)
    summary.get_by_role("link").first.click()  # to the Select2 box of « Région »
    expect(page.locator("#region + .select2 .select2-selection")).to_be_focused()
    choose_select2(page, "region", "Hauts-de-France")
    page.locator("main form").get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".clea-error-summary")).to_be_focused()
    expect(page.locator("#siret-erreur1")).to_contain_text("SIRET invalide")
    expect(page.locator("#nom")).to_have_value("FORMAPLUS Lille")
    assert page.js_errors == []
