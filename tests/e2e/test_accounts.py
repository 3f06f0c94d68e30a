"""Journey of a new account: an administrateur organisme creates a user (établissement picked
by search-as-you-type), Certif Pro reads the stored first-connection e-mail, the new user sets
a password through the single-use link and logs in; the link then no longer works."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import choose_select2, panel_title


def test_new_user_activates_account_from_the_email(page, sign_in, shoot):
    sign_in(page, "admin.organisme")
    page.goto("/utilisateurview/add")
    expect(panel_title(page)).to_have_text("Créer un utilisateur")
    page.locator("main #username").fill("marie.curie")
    page.locator("main #first_name").fill("Marie")
    page.locator("main #last_name").fill("Curie")
    page.locator("main #email").fill("marie.curie@of.fr")
    choose_select2(page, "role", "Utilisateur établissement")
    # Only the perimeter field the role needs is shown.
    expect(page.locator("#organisme_id")).to_be_hidden()
    choose_select2(page, "etablissement_id", "FORMAPLUS Créteil")
    shoot(page, "formulaire-utilisateur")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".clea-flashes")).to_contain_text(
        "Un e-mail de première connexion a été envoyé à marie.curie@of.fr")
    expect(page.locator("main")).to_contain_text("FORMAPLUS Créteil")

    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()
    sign_in(page, "certifpro")
    page.goto("/emailenvoyeview/list/")
    row = page.locator("main table tr", has_text="marie.curie@of.fr")
    expect(row).to_contain_text("Votre compte sur la plateforme CléA")
    row.locator("a[href*='/emailenvoyeview/show/']").click()
    # the e-mail's page, loaded (under load the text was read before it was drawn)
    expect(page.locator("main")).to_contain_text("/compte/activer/")
    body = page.locator("main").inner_text()
    link = re.search(r"/compte/activer/[A-Za-z0-9_\-]+", body).group(0)
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    page.goto(link)
    expect(panel_title(page)).to_have_text("Activer mon compte")
    page.locator("main").get_by_label("Nouveau mot de passe").fill("trop-court")
    page.locator("main").get_by_label("Confirmez le mot de passe").fill("trop-court")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(page.locator("main")).to_contain_text("Mot de passe trop faible")
    page.locator("main").get_by_label("Nouveau mot de passe").fill("Radium-Polonium-1898")
    page.locator("main").get_by_label("Confirmez le mot de passe").fill("Radium-Polonium-1898")
    page.get_by_role("button", name="Enregistrer mon mot de passe").click()
    expect(page.locator(".clea-flashes")).to_contain_text("Votre mot de passe est enregistré")
    sign_in(page, "marie.curie", "Radium-Polonium-1898")
    expect(page.locator("main")).to_contain_text("Utilisateur établissement")
    expect(page.locator("main")).to_contain_text("FORMAPLUS Créteil")

    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()
    page.goto(link)
    expect(page.locator("main")).to_contain_text("Ce lien n'est plus valide")
