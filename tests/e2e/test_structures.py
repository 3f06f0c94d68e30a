"""Journeys on the structure screens: an administrateur réseau creates an organisme, then its
first établissement straight from the organisme form; a wrong SIRET is refused in French."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from stdnum import luhn

from .ui import choose_select2, panel_title

SIREN = "732829320"  # valid SIREN (Luhn)


def siret(siren: str, nic: str) -> str:
    base = siren + nic
    return base + luhn.calc_check_digit(base)


def test_admin_reseau_creates_organisme_then_etablissement(page, sign_in, open_gestion, shoot):
    sign_in(page, "admin.reseau")
    open_gestion(page).get_by_role("link", name="Mes organismes").click()
    expect(panel_title(page)).to_have_text("Mes organismes")
    page.locator("main a[href$='/organismeview/add']").click()

    expect(panel_title(page)).to_have_text("Créer un organisme")
    page.get_by_label("Raison sociale").fill("ATELIERS DU SAVOIR")
    page.get_by_label("SIREN").fill(SIREN)
    shoot(page, "formulaire-organisme")
    page.get_by_role("button", name="Créer et ajouter un établissement").click()

    # The établissement form, the new organisme already chosen (shown read-only).
    expect(page).to_have_url(re.compile(r"/etablissementview/add\?_flt_0_organisme=\d+"))
    expect(page.locator(".clea-flashes")).to_contain_text("Enregistrement créé.")
    expect(panel_title(page)).to_have_text("Créer un établissement")
    expect(page.locator("#organisme-fixe")).to_have_text("ATELIERS DU SAVOIR")
    page.get_by_label("Nom de l'établissement").fill("ATELIERS DU SAVOIR Saint-Denis")
    page.get_by_label("SIRET").fill(siret(SIREN, "0001"))
    page.get_by_label("Ville").fill("Saint-Denis")
    choose_select2(page, "region", "Île-de-France")
    expect(page.locator("#region")).to_have_value("IDF")
    shoot(page, "formulaire-etablissement")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page).to_have_url(re.compile(r"/etablissementview/show/\d+"))
    expect(panel_title(page)).to_have_text("Visualiser l'établissement")
    fiche = page.locator("main table")
    for label, value in (("Nom de l'établissement", "ATELIERS DU SAVOIR Saint-Denis"),
                         ("Organisme", "ATELIERS DU SAVOIR"),
                         ("SIRET", siret(SIREN, "0001")),
                         ("Ville", "Saint-Denis"),
                         ("Région", "Île-de-France"),
                         ("Actif", "OUI")):
        expect(fiche.locator("tr").filter(has=page.locator("th", has_text=label)).first
               .locator("td")).to_have_text(value)
    expect(fiche.locator("tr").filter(has=page.locator("th", has_text="Créé le")).locator("td")
           ).to_have_text(re.compile(r"^\s*\d{2}/\d{2}/\d{4} \d{2}:\d{2}\s*$"))
    expect(fiche).not_to_contain_text("None")
    shoot(page, "visualiser-etablissement")
    assert page.js_errors == []


@pytest.mark.parametrize("username", ["certifpro", "admin.organisme"])
def test_invalid_siret_is_refused_and_the_form_keeps_the_input(page, sign_in, shoot, username):
    sign_in(page, username)
    page.goto("/etablissementview/add")
    expect(panel_title(page)).to_have_text("Créer un établissement")
    page.get_by_label("Nom de l'établissement").fill("FORMAPLUS Saint-Ouen")
    good = siret("812345676", "0099")  # FORMAPLUS's SIREN, a new NIC
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)  # wrong check digit
    page.get_by_label("SIRET").fill(wrong)
    choose_select2(page, "region", "Île-de-France")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page.locator("main")).to_contain_text("SIRET invalide")
    expect(page.get_by_label("Nom de l'établissement")).to_have_value("FORMAPLUS Saint-Ouen")
    expect(page.get_by_label("SIRET")).to_have_value(wrong)
    expect(page.locator("#region")).to_have_value("IDF")
    shoot(page, f"siret-invalide-{username}")
