"""Personal data in the browser: Certif Pro opens a certified dossier, exports the person's data
(the download read back), anonymises them with a motive through the confirmation dialog; the
public check of their certificate still answers, without the name; the « Données
personnelles » page is reached from the footer."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

from playwright.sync_api import expect

from .ui import confirm

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 200


def _certifie(live_app) -> tuple[int, str]:
    """A dossier of LA BOETIE Lyon (used by no other browser test), préalable validée with
    its matrice and one more document, sent to the Auvergne-Rhône-Alpes jury and certified."""
    with live_app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Certificateur, Etablissement
        from app.services import candidatures, certification, documents, evaluations, matrice

        lyon = db.session.query(Etablissement).filter_by(nom="LA BOETIE Lyon").one()
        cand = candidatures.creer({
            "etablissement_id": lyon.id, "civilite": "Mme", "nom_naissance": "Morel",
            "prenoms": "Inès", "date_naissance": "1991-03-21", "commune_naissance": "Vienne",
            "departement_naissance": "38", "statut_inscription": "demandeur_emploi",
            "email": "ines.morel@exemple.fr", "telephone": "06 98 76 54 32",
            "adresse": "8 rue des Tanneurs", "code_postal": "69007", "ville": "Lyon",
            "objectif_pro": "Devenir agente de logistique qualifiée dans un entrepôt.",
            "objectif_extra_pro": "Gérer seule les démarches administratives du foyer."},
            by=None)
        ev = evaluations.creer(cand, None)
        evaluations.enregistrer(ev, {
            "version": ev.version, "evaluateur": "Sophie Évaluatrice",
            "date_evaluation": dt.date.today().isoformat(),
            "resultats": {r.sous_domaine_id: {"acquis": True} for r in ev.resultats}}, None)
        documents.enregistrer(cand, "matrice.xlsx", matrice.generer(ev), None, nature="matrice",
                              evaluation_id=ev.id)
        evaluations.finaliser(ev, None)
        documents.enregistrer(cand, "justificatif-morel.pdf", PDF, None)
        certification.envoyer_en_certification(cand, None)
        if cand.session_jury_id is None:  # the demo's session of the day is closed already
            ara = db.session.scalars(select(Certificateur).where(
                Certificateur.region == "ARA")).one()
            today = dt.date.today()
            session = certification.creer_session({
                "certificateur_id": ara.id, "date_session": today, "date_limite": today,
                "mode": "distanciel", "membres": [{"nom": "Anne E.", "college": "employeurs"},
                                                  {"nom": "Marc S.", "college": "salaries"}]},
                by=None)
            certification.ouvrir_session(session, by=None)
        certification.decider(cand, "certifiee", "", None)
        pk, numero = cand.id, certification.certificat_de(cand).numero
        db.session.remove()
    return pk, numero


def test_export_then_anonymise_then_public_check(page, browser, live_server, live_app,
                                                  sign_in, shoot):
    pk, numero = _certifie(live_app)
    sign_in(page, "certifpro")
    page.goto(f"/candidature/{pk}")
    main = page.locator("main")
    expect(main).to_contain_text("Certifiée")
    expect(main).to_contain_text("MOREL")
    shoot(page, "rgpd-dossier-certifie")

    # « Exporter les données du candidat »: the zip holds the identity and the documents.
    with page.expect_download() as info:
        page.get_by_role("link", name="Exporter les données du candidat").click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))
    data = json.loads(archive.read("donnees.json"))
    assert data["personne"]["prenoms"] == "Inès"
    assert data["personne"]["email"] == "ines.morel@exemple.fr"
    (dossier,) = data["dossiers"]
    assert dossier["certificat"]["numero"] == numero
    justificatif = next(d for d in dossier["documents"] if d["nom"] == "justificatif-morel.pdf")
    assert archive.read(justificatif["fichier"]) == PDF

    # « Anonymiser » with a motive, confirmed in the platform's dialog.
    section = page.locator("#anonymiser")
    section.get_by_label("Motif de l'anonymisation").fill(
        "Demande d'effacement reçue par courrier le 2 décembre")
    shoot(page, "rgpd-anonymiser-motif")
    section.get_by_role("button", name="Anonymiser").click()
    expect(page.locator("dialog#clea-confirm-dialog")).to_contain_text("Anonymiser ce candidat ?")
    shoot(page, "rgpd-anonymiser-confirmation")
    confirm(page, "Anonymiser définitivement")
    expect(page.locator(".clea-flashes")).to_contain_text("Le candidat est anonymisé")
    expect(page.locator("main h1")).to_contain_text("Candidat anonymisé")
    expect(main).not_to_contain_text("MOREL")
    expect(main).not_to_contain_text("ines.morel@exemple.fr")
    expect(main).not_to_contain_text("justificatif-morel.pdf")
    expect(page.get_by_role("link", name="Exporter les données du candidat")).to_have_count(0)
    shoot(page, "rgpd-dossier-anonymise")

    # The public check, without login: valid, number and date, no name.
    public = browser.new_context(base_url=live_server, locale="fr-FR")
    try:
        check = public.new_page()
        check.goto(f"/verifier/{numero}")
        result = check.locator(".clea-verification")
        expect(result).to_contain_text("Certificat valide")
        expect(result).to_contain_text(numero)
        expect(result).to_contain_text("Titulaire : données anonymisées.")
        expect(result).to_contain_text(dt.date.today().strftime("%d/%m/%Y"))
        expect(check.locator("main")).not_to_contain_text("MOREL")
        expect(check.locator("main")).not_to_contain_text("Inès")
        shoot(check, "rgpd-verification-publique")
        # The « Données personnelles » page, from the footer.
        check.get_by_role("link", name="Données personnelles").click()
        expect(check.locator("main h1")).to_have_text("Données personnelles")
        expect(check.locator("main")).to_contain_text("Vos droits")
        shoot(check, "rgpd-page-donnees-personnelles")
    finally:
        public.close()
    assert not page.js_errors, page.js_errors
