"""Guide path « rechercher → créer → retrouver → déclarer l'abandon → réintégrer », and a
rattachement requested with the key icon then accepted by Certif Pro."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import confirm, panel_title


def test_search_create_find_abandon_reinstate(page, sign_in, shoot):
    sign_in(page, "utilisateur.organisme")
    page.goto("/")
    page.get_by_role("link", name="Rechercher un candidat").click()
    page.locator("main #q").fill("Océane Lebrun")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("main")).to_contain_text("Aucun candidat.")
    page.get_by_role("link", name="Proposer une candidature").click()
    expect(panel_title(page)).to_have_text("Proposer une candidature")
    form = page.locator("main form")
    form.locator("#civilite").select_option("Mme")
    form.locator("#nom_naissance").fill("Lebrun")
    form.locator("#prenoms").fill("Océane")
    form.locator("#date_naissance").fill("1994-09-21")
    form.locator("#commune_naissance").fill("Rennes")
    form.locator("#departement_naissance").fill("35")
    form.locator("#statut_inscription").select_option("demandeur_emploi")
    form.locator("#objectif_pro").fill("Obtenir un poste d'agente de production en agroalimentaire.")
    form.locator("#objectif_extra_pro").fill("Gagner en confiance pour les démarches administratives.")
    shoot(page, "proposer-candidature")
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".clea-flashes")).to_contain_text("Le dossier de LEBRUN Océane est créé")
    expect(page.locator("main")).to_contain_text("En attente d'évaluation préalable")
    shoot(page, "page-candidat")

    # Find it again, accents and case ignored.
    page.goto("/recherche/?q=oceane")
    row = page.locator("main table tr", has_text="LEBRUN")
    row.get_by_role("link", name=re.compile("Consulter")).click()
    expect(panel_title(page)).to_contain_text("LEBRUN Océane")

    page.locator("#motif").select_option("emploi")
    page.locator("#texte").fill("CDI signé")
    page.get_by_role("button", name="Déclarer l'abandon").click()
    expect(page.locator(".clea-flashes")).to_contain_text("L'abandon du dossier est enregistré")
    page.goto("/evaluations/abandonnees/")
    row = page.locator("main table tr", has_text="LEBRUN")
    expect(row).to_contain_text("Reprise d'emploi")
    row.get_by_role("button", name=re.compile("Réintégrer")).click()
    expect(page.locator(".clea-flashes")).to_contain_text("Le dossier est réintégré")
    page.goto("/evaluations/")
    expect(page.locator("main table")).to_contain_text("LEBRUN")
    assert page.js_errors == []


def test_rattachement_accepted_by_certif_pro(page, sign_in, live_app, shoot):
    with live_app.app_context():  # a dossier of another organisme (LA BOETIE Lyon)
        from app.extensions import db
        from app.models import Etablissement
        from app.services import candidatures

        lyon = db.session.query(Etablissement).filter_by(nom="LA BOETIE Lyon").one()
        candidatures.creer({"etablissement_id": lyon.id, "civilite": "M.",
                            "nom_naissance": "Garnier", "prenoms": "Théo",
                            "date_naissance": "1988-02-14", "commune_naissance": "Lyon",
                            "statut_inscription": "salarie",
                            "objectif_pro": "Consolider ses compétences pour devenir chef d'équipe.",
                            "objectif_extra_pro": "Aider ses enfants et s'engager dans une association."},
                           by=None)
        db.session.remove()

    sign_in(page, "utilisateur.organisme")
    page.goto("/recherche/?q=garnier theo")
    row = page.locator("main table tr", has_text="GARNIER")
    expect(row).to_contain_text("LA BOETIE Lyon")
    row.get_by_role("link", name=re.compile("Demander le rattachement")).click()
    expect(panel_title(page)).to_have_text("Demander le rattachement d'un dossier")
    page.locator("#etablissement_cible_id").select_option(label="FORMAPLUS Paris")
    page.locator("#motif").select_option("demenagement")
    page.locator("#motif_texte").fill("Le candidat s'est installé à Paris.")
    shoot(page, "demande-rattachement")
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".clea-flashes")).to_contain_text("Votre demande de rattachement est envoyée")
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    sign_in(page, "certifpro")
    page.goto("/rattachements/")
    page.locator("main table tr", has_text="GARNIER").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/rattachements/\d+$"))
    page.wait_for_load_state("load")  # clea.js ready: the button asks before it decides
    page.get_by_role("button", name="Accepter et transférer le dossier").click()
    confirm(page, "Accepter et transférer le dossier")
    expect(page.locator(".clea-flashes")).to_contain_text("le dossier est transféré")
    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()

    sign_in(page, "utilisateur.organisme")
    expect(page.locator("#clea-bell .clea-bell-count")).not_to_have_text("0")
    page.goto("/evaluations/?nom=garnier")
    row = page.locator("main table tr", has_text="GARNIER")
    expect(row).to_contain_text("FORMAPLUS Paris")
    row.get_by_role("link", name=re.compile("Consulter")).click()
    expect(page.locator("main")).to_contain_text("dossier transféré de LA BOETIE Lyon à FORMAPLUS Paris")
    assert page.js_errors == []
