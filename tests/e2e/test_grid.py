"""The evaluation grid as a user fills it (guide §17): the counter « n / 28 acquis (m / 28
renseignés) » and each domain's own count follow every click, before any saving; each domain
folds and unfolds (« en dépliant chaque domaine »); « Finaliser l'évaluation » asks first, and
cancelling finalizes nothing (with and without JavaScript)."""
from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from .ui import confirm, confirmation, panel_title


def _evaluation(live_app, nom: str, remplie: bool = False) -> tuple[int, list[int]]:
    """A draft préalable on a new dossier of FORMAPLUS Paris; `remplie`: 28 × Acquis, the
    evaluator, the date and the matrice, i.e. ready to finalize. Returns its id and the
    number of sub-domains of each domain."""
    with live_app.app_context():
        from app.extensions import db
        from app.models import Etablissement
        from app.services import candidatures, documents, evaluations, matrice

        paris = db.session.query(Etablissement).filter_by(nom="FORMAPLUS Paris").one()
        cand = candidatures.creer({
            "etablissement_id": paris.id, "civilite": "Mme", "nom_naissance": nom,
            "prenoms": "Lucie", "date_naissance": "1985-03-12", "commune_naissance": "Nantes",
            "statut_inscription": "demandeur_emploi",
            "objectif_pro": "Reprendre un emploi d'agent administratif à temps plein.",
            "objectif_extra_pro": "Gérer seule ses démarches administratives en ligne."},
            by=None, confirmer_homonymes=True)
        ev = evaluations.creer(cand, None)
        if remplie:
            evaluations.enregistrer(ev, {
                "version": ev.version, "evaluateur": "Marc Évaluateur",
                "date_evaluation": dt.date.today().isoformat(),
                "resultats": {r.sous_domaine_id: {"acquis": True} for r in ev.resultats}},
                None)
            documents.enregistrer(cand, "matrice.xlsx", matrice.generer(ev), None,
                                  nature="matrice", evaluation_id=ev.id)
        tailles = [len(d.sous_domaines) for d in ev.referentiel.domaines]
        pk = ev.id
        db.session.remove()
    return pk, tailles


def _statut(live_app, pk: int) -> tuple[str, list]:
    with live_app.app_context():
        from app.extensions import db
        from app.models.evaluation import Evaluation

        ev = db.session.get(Evaluation, pk)
        result = ev.statut, [r.acquis for r in ev.resultats]
        db.session.remove()
    return result


def _domaine(page, numero: int):
    return page.locator(f"details#domaine-{numero}")


def test_counters_follow_clicks_and_domains_fold(page, sign_in, live_app, shoot):
    pk, tailles = _evaluation(live_app, "Grillon")
    assert sum(tailles) == 28 and len(tailles) == 7
    sign_in(page, "utilisateur.etablissement")
    page.goto(f"/evaluation/{pk}")
    expect(panel_title(page)).to_contain_text("Évaluation préalable")
    compteur, renseignes = page.locator("#clea-compteur"), page.locator("#clea-renseignes")
    expect(compteur).to_have_text("0")
    expect(renseignes).to_have_text("0")

    # Folded as the guide says: the first domain to fill in is open, the others closed,
    # each header with its own count.
    un, deux = _domaine(page, 1), _domaine(page, 2)
    expect(un).to_have_attribute("open", "")
    for numero in range(2, 8):
        expect(_domaine(page, numero)).not_to_have_attribute("open", "")
    expect(un.locator("summary")).to_contain_text(f"0 / {tailles[0]} acquis")
    expect(deux.locator("summary")).to_contain_text(f"0 / {tailles[1]} acquis")
    expect(deux.locator("fieldset").first).to_be_hidden()
    shoot(page, "grille-pliee")

    # Each click counts at once, nothing saved.
    premier = un.locator("fieldset").nth(0)
    premier.get_by_label("Acquis", exact=True).check()
    expect(compteur).to_have_text("1")
    expect(renseignes).to_have_text("1")
    expect(un.locator("summary")).to_contain_text(f"1 / {tailles[0]} acquis")
    premier.get_by_label("Non acquis", exact=True).check()
    expect(compteur).to_have_text("0")
    expect(renseignes).to_have_text("1")
    expect(un.locator("summary")).to_contain_text(f"0 / {tailles[0]} acquis")
    expect(un.locator("summary")).to_contain_text(f"(1 / {tailles[0]} renseignés)")
    for i in range(tailles[0]):
        un.locator("fieldset").nth(i).get_by_label("Acquis", exact=True).check()
    expect(compteur).to_have_text(str(tailles[0]))
    expect(un.locator("summary")).to_contain_text(f"{tailles[0]} / {tailles[0]} acquis")

    # Unfold the second domain with its header, answer in it; fold the first one.
    deux.locator("summary").click()
    expect(deux).to_have_attribute("open", "")
    deux.locator("fieldset").nth(0).get_by_label("Acquis", exact=True).check()
    deux.locator("fieldset").nth(1).get_by_label("Non acquis", exact=True).check()
    expect(deux.locator("summary")).to_contain_text(f"1 / {tailles[1]} acquis")
    expect(deux.locator("summary")).to_contain_text(f"(2 / {tailles[1]} renseignés)")
    expect(compteur).to_have_text(str(tailles[0] + 1))
    expect(renseignes).to_have_text(str(tailles[0] + 2))
    un.locator("summary").click()
    expect(un).not_to_have_attribute("open", "")
    expect(un.locator("fieldset").first).to_be_hidden()
    expect(page.locator("main .lead.clea-compteur")).to_have_text(
        f"{tailles[0] + 1} / 28 acquis ({tailles[0] + 2} / 28 renseignés)")
    shoot(page, "grille-en-cours-de-saisie")
    # Finaliser now would be refused: its dialog says so, and cancelling changes nothing.
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    expect(confirmation(page)).to_contain_text(
        f"Résultats renseignés : {tailles[0] + 2} / 28. Tous doivent l’être pour finaliser.")
    confirmation(page).get_by_role("button", name="Annuler").click()
    expect(confirmation(page)).to_be_hidden()

    # Unfold / fold everything at once.
    page.get_by_role("button", name="Déplier tous les domaines").click()
    for numero in range(1, 8):
        expect(_domaine(page, numero)).to_have_attribute("open", "")
    shoot(page, "grille-tout-deplie")
    page.get_by_role("button", name="Replier tous les domaines").click()
    for numero in range(1, 8):
        expect(_domaine(page, numero)).not_to_have_attribute("open", "")

    # Nothing was saved: the counters followed the clicks, not a save.
    statut, resultats = _statut(live_app, pk)
    assert statut == "en_cours" and all(r is None for r in resultats)
    page.reload()
    expect(compteur).to_have_text("0")

    # Saved, the page opens again on the first domain still to fill in, with its count.
    for i in range(tailles[0]):
        _domaine(page, 1).locator("fieldset").nth(i).get_by_label("Acquis", exact=True).check()
    page.get_by_role("button", name="Enregistrer et reprendre plus tard").click()
    expect(page.locator(".clea-flashes")).to_contain_text("vous pourrez la reprendre plus tard")
    expect(_domaine(page, 1)).not_to_have_attribute("open", "")
    expect(_domaine(page, 1).locator("summary")).to_contain_text(
        f"{tailles[0]} / {tailles[0]} acquis")
    expect(_domaine(page, 2)).to_have_attribute("open", "")
    expect(compteur).to_have_text(str(tailles[0]))
    assert page.js_errors == []


def test_finalize_asks_and_cancelling_finalizes_nothing(page, sign_in, live_app, shoot):
    pk, _ = _evaluation(live_app, "Pinson", remplie=True)
    sign_in(page, "utilisateur.etablissement")
    page.goto(f"/evaluation/{pk}")
    expect(page.locator("#clea-compteur")).to_have_text("28")
    finaliser = page.get_by_role("button", name="Finaliser l'évaluation")
    finaliser.click()
    dialog = confirmation(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Finaliser l'évaluation ?")
    expect(dialog).to_contain_text("Résultat : Validé (28 / 28 acquis).")
    expect(dialog).to_contain_text("seul un administrateur organisme")
    expect(dialog).to_contain_text("Vous ne pourrez plus la modifier")
    # The safe answer has the focus: Enter would cancel.
    expect(dialog.get_by_role("button", name="Annuler")).to_be_focused()
    shoot(page, "finaliser-confirmation")
    dialog.get_by_role("button", name="Annuler").click()
    expect(dialog).to_be_hidden()
    expect(finaliser).to_be_focused()
    assert _statut(live_app, pk)[0] == "en_cours"

    # Escape cancels too.
    finaliser.click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _statut(live_app, pk)[0] == "en_cours"
    expect(page.locator("main")).to_contain_text("En cours de création")

    # Confirmed, it is done.
    finaliser.click()
    confirm(page, "Finaliser l'évaluation")
    expect(page.locator(".clea-flashes")).to_contain_text("Évaluation finalisée : Validé.")
    assert _statut(live_app, pk)[0] == "finalisee"
    assert page.js_errors == []


def test_finalize_without_javascript_is_a_confirmation_step(browser, live_server, live_app,
                                                            sign_in, shoot):
    pk, _ = _evaluation(live_app, "Mésange", remplie=True)
    context = browser.new_context(base_url=live_server, locale="fr-FR",
                                  java_script_enabled=False,
                                  viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, "utilisateur.etablissement")
        page.goto(f"/evaluation/{pk}")
        page.get_by_role("button", name="Finaliser l'évaluation").click()
        expect(panel_title(page)).to_have_text("Finaliser l'évaluation ?")
        expect(page.locator("main")).to_contain_text("Résultat : Validé (28 / 28 acquis).")
        expect(page.locator("main")).to_contain_text("seul un administrateur organisme")
        shoot(page, "finaliser-sans-javascript")
        assert _statut(live_app, pk)[0] == "en_cours"
        page.get_by_role("link", name="Annuler").click()
        expect(panel_title(page)).to_contain_text("Évaluation préalable")
        assert _statut(live_app, pk)[0] == "en_cours"
        page.get_by_role("button", name="Finaliser l'évaluation").click()
        page.get_by_role("button", name="Finaliser l'évaluation").click()
        expect(page.locator(".clea-flashes")).to_contain_text("Évaluation finalisée : Validé.")
        assert _statut(live_app, pk)[0] == "finalisee"
    finally:
        context.close()
