"""The certification path of the guide (§18, §20): a préalable validée → « Envoyer en
certification » → Certif Pro programmes and opens a session → the jury certifies → the OF
downloads the certificate → the public page confirms it (no login)."""
from __future__ import annotations

import datetime as dt
import io
import json
import re

import pdfplumber
from playwright.sync_api import expect

from .ui import confirm, programmer_session


def _prealable_validee(live_app, **identite) -> int:
    """A dossier of FORMAPLUS Paris whose préalable is finalized Validé (28 / 28); `identite`
    overrides the candidate's (another test's candidate is another person)."""
    with live_app.app_context():
        from app.extensions import db
        from app.models import Etablissement
        from app.services import candidatures, documents, evaluations, matrice

        paris = db.session.query(Etablissement).filter_by(nom="FORMAPLUS Paris").one()
        cand = candidatures.creer({
            "etablissement_id": paris.id, "civilite": "M.", "nom_naissance": "Besnard",
            "prenoms": "Karim", "date_naissance": "1988-06-15", "commune_naissance": "Amiens",
            "statut_inscription": "demandeur_emploi", "email": "karim.besnard@exemple.fr",
            "adresse": "12 rue des Lilas", "code_postal": "75020", "ville": "Paris",
            "certificat_papier": True,
            "objectif_pro": "Accéder à un poste de préparateur de commandes qualifié.",
            "objectif_extra_pro": "Aider ses enfants dans leurs devoirs.", **identite}, by=None)
        ev = evaluations.creer(cand, None)
        evaluations.enregistrer(ev, {
            "version": ev.version, "evaluateur": "Nadia Évaluatrice",
            "date_evaluation": dt.date.today().isoformat(),
            "resultats": {r.sous_domaine_id: {"acquis": True} for r in ev.resultats}}, None)
        documents.enregistrer(cand, "matrice.xlsx", matrice.generer(ev), None, nature="matrice",
                              evaluation_id=ev.id)
        evaluations.finaliser(ev, None)
        pk = cand.id
        db.session.remove()
    return pk


def test_send_session_certify_download_verify(page, browser, live_server, live_app, sign_in,
                                              shoot, tmp_path):
    pk = _prealable_validee(live_app)

    # The OF sends the dossier after reading the check list.
    sign_in(page, "utilisateur.etablissement")
    page.goto(f"/candidature/{pk}")
    expect(page.locator("main")).to_contain_text("À envoyer en certification")
    page.get_by_role("button", name="Envoyer en certification").click()
    confirm(page, "Envoyer en certification")
    expect(page.locator(".clea-flashes")).to_contain_text("Le dossier est envoyé en certification.")
    expect(page.locator("main")).to_contain_text("En attente de jury")
    expect(page.locator("main")).to_contain_text("en attente d'affectation à un jury")

    # Certif Pro programmes a paritaire session of the Île-de-France jury and opens it.
    page.goto("/logout/")  # GET asks; the button logs out (POST with the CSRF token)
    page.get_by_role("button", name="Se déconnecter").click()
    sign_in(page, "certifpro")
    day = dt.date.today()  # the jury decides from the session's date on
    programmer_session(page, day, "Paris, 12 rue de la Paix",
                       membres=("Anne Employeur", "Paul Salarié"))
    form = page.locator("main form")
    shoot(page, "session-jury-formulaire")
    form.get_by_role("button", name="Enregistrer la session").click()
    expect(page.locator(".clea-flashes")).to_contain_text("est créée")
    page.get_by_role("button", name="Ouvrir la session").click()
    expect(page.locator(".clea-flashes")).to_contain_text("1 dossier(s) en attente")
    expect(page.locator("main")).to_contain_text("BESNARD Karim")
    page.goto("/logout/")  # GET asks; the button logs out (POST with the CSRF token)
    page.get_by_role("button", name="Se déconnecter").click()

    # The jury examines the file and certifies.
    sign_in(page, "jury")
    page.goto("/jury/")
    page.get_by_role("link", name=f"Ouvrir la session du {day.strftime('%d/%m/%Y')}").click()
    page.get_by_role("link", name=re.compile("Examiner et statuer")).click()
    expect(page.locator("main")).to_contain_text("Accéder à un poste de préparateur")
    expect(page.locator("main")).to_contain_text("matrice.xlsx")
    shoot(page, "jury-dossier")
    page.get_by_label("Certifiée", exact=True).check()
    page.get_by_role("button", name="Enregistrer la décision").click()
    confirm(page, "Enregistrer la décision")
    expect(page.locator(".clea-flashes")).to_contain_text("Décision enregistrée : Certifiée.")
    expect(page.locator("main")).to_contain_text("CLEA-")
    shoot(page, "jury-session")
    page.goto("/logout/")  # GET asks; the button logs out (POST with the CSRF token)
    page.get_by_role("button", name="Se déconnecter").click()

    # The OF sees the decision and downloads the certificate.
    sign_in(page, "utilisateur.etablissement")
    page.goto(f"/candidature/{pk}")
    expect(page.locator("main")).to_contain_text("Décision du jury")
    expect(page.locator("main")).to_contain_text("Certifiée")
    shoot(page, "decision-du-jury")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le certificat (PDF)").click()
    path = tmp_path / "certificat.pdf"
    download.value.save_as(path)
    with pdfplumber.open(io.BytesIO(path.read_bytes())) as pdf:
        text = pdf.pages[0].extract_text()
    numero = re.search(r"CLEA-\d{4}-\d{6}", text).group(0)
    assert "Karim BESNARD" in text
    url = re.search(r"https?://\S+/verifier/CLEA-\d{4}-\d{6}", text).group(0)
    assert url == f"{live_server}/verifier/{numero}"
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le certificat numérique (Open Badges)").click()
    badge = tmp_path / f"{numero}.json"
    download.value.save_as(badge)
    assert json.loads(badge.read_text())["credentialSubject"]["licenseNumber"] == numero

    # The public page, without any login, confirms it — name and date only.
    public = browser.new_context(locale="fr-FR")
    try:
        visitor = public.new_page()
        visitor.goto(url)
        expect(visitor.locator("main")).to_contain_text("Certificat valide")
        expect(visitor.locator("main")).to_contain_text("Karim BESNARD")
        expect(visitor.locator("main")).not_to_contain_text("12 rue des Lilas")
        expect(visitor.locator("main")).not_to_contain_text("15/06/1988")
        shoot(visitor, "verification-publique")
        # the downloaded PDF dropped on the page: issued here, unchanged, valid
        visitor.get_by_label(re.compile("Ou vérifiez un fichier")).set_input_files(str(path))
        visitor.get_by_role("button", name="Vérifier le fichier").click()
        expect(visitor.locator("main")).to_contain_text("Fichier authentique : certificat valide")
        expect(visitor.locator("main")).to_contain_text("Karim BESNARD")
        shoot(visitor, "verification-fichier")
        # and its credential, downloaded by the OF from the dossier
        visitor.get_by_label(re.compile("Ou vérifiez un fichier")).set_input_files(str(badge))
        visitor.get_by_role("button", name="Vérifier le fichier").click()
        expect(visitor.locator("main")).to_contain_text("Fichier authentique : certificat valide")
        visitor.goto(f"{live_server}/verifier/CLEA-2000-000000")
        expect(visitor.locator("main")).to_contain_text("Certificat inconnu")
    finally:
        public.close()
