"""Certification, second part: jury decisions (who may, on which dossier), complements and the
way back to the jury, certificate numbers (no duplicate, no gap, under concurrency on
PostgreSQL), the certificate and procès-verbal PDFs read back, the public verification page,
shipments of paper certificates, the calendar, the screens and the API."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading

import pdfplumber
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.jury import Certificat, CompteurCertificat, EnvoiCertificat
from app.services import candidatures, certification, envois
from app.services.errors import ForbiddenError, RuleError
from tests.integration.test_candidatures import T
from tests.integration.test_certification import TODAY, a_envoyer, session
from tests.integration.test_candidatures import habiliter
from tests.world import PASSWORD, user

YEAR = TODAY.year  # the sessions of these tests sit today (a jury decides from that date on)
OF = "utilisateur_etablissement_a"


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


def en_session(world, n=1, **over):
    """n dossiers sent and assigned to one open session of the IDF Transitions Pro."""
    s = session(world)
    dossiers = []
    for i in range(n):
        c = a_envoyer(world, nom_naissance=f"Dupré{chr(65 + i // 26)}{chr(65 + i % 26)}", **over)
        certification.envoyer_en_certification(c, user(OF))
        assert c.statut == "attente_certification" and c.session_jury_id == s.id
        dossiers.append(c)
    return s, dossiers


def pdf_text(content: bytes) -> str:
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def titles(username):
    return db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user(username).id)).all()


def test_certified_gets_a_number_a_pdf_and_the_of_is_told(app, ready):
    s, (c,) = en_session(ready)
    decision = certification.decider(c, "certifiee", "", user("jury_a"))
    assert c.statut == "certifiee" and decision.session_jury_id == s.id
    certificat = certification.certificat_de(c)
    assert certificat.numero == f"CLEA-{YEAR}-000001"
    assert certificat.date_jury == s.date_session
    assert any(t.startswith("Candidature certifiée") for t in titles(OF))
    history = db.session.scalars(select(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id == c.id).order_by(HistoriqueStatut.id)).all()
    assert [h.vers for h in history][-1] == "certifiee"
    assert history[-1].par_id == user("jury_a").id
    with app.test_request_context(base_url="https://clea.example.fr"):
        text = pdf_text(certification.certificat_pdf(certificat))
    assert certificat.numero in text
    assert "Élodie Marie DUPRÉA" in text.replace("\n", " ")
    assert f"https://clea.example.fr/verifier/{certificat.numero}" in text
    assert "Transitions Pro Île-de-France" in text
    # final: no second decision, no cancelling
    with pytest.raises(RuleError, match="n'attend pas de décision"):
        certification.decider(c, "non_certifiee", "x", user("jury_a"))
    db.session.rollback()
    with pytest.raises(RuleError, match="ne peut plus être annulé"):
        certification.annuler_envoi(c, "Dossier envoyé par erreur", user("certif_pro_a"))


def test_not_certified_needs_a_motive(app, ready):
    _, (c,) = en_session(ready)
    with pytest.raises(RuleError, match="motif de la non-certification"):
        certification.decider(c, "non_certifiee", "  ", user("jury_a"))
    db.session.rollback()
    with pytest.raises(RuleError, match="Choisissez la décision"):
        certification.decider(c, "peut-etre", "", user("jury_a"))
    db.session.rollback()
    certification.decider(c, "non_certifiee", "Domaine 3 insuffisamment étayé", user("jury_a"))
    assert c.statut == "non_certifiee" and certification.certificat_de(c) is None
    assert any(t.startswith("Candidature non certifiée") for t in titles(OF))


def test_complements_go_back_to_the_jury(app, ready):
    s, (c,) = en_session(ready)
    with pytest.raises(RuleError, match="Précisez les compléments"):
        certification.decider(c, "complement", "", user("jury_a"))
    db.session.rollback()
    certification.decider(c, "complement", "Joindre l'attestation de formation du module 4",
                          user("jury_a"))
    assert c.statut == "attente_complement" and c.session_jury_id is None
    assert any(t.startswith("Compléments demandés") for t in titles(OF))
    with pytest.raises(RuleError, match="10 caractères"):
        certification.completer(c, "ok", user(OF))
    db.session.rollback()
    with pytest.raises(RuleError, match="n'attend pas de décision"):
        certification.decider(c, "certifiee", "", user("jury_a"))
    db.session.rollback()
    certification.completer(c, "Attestation du module 4 déposée ce jour.", user(OF))
    assert c.statut == "completee" and c.session_jury_id == s.id  # next open session
    assert any(t.startswith("Candidature complétée") for t in titles("jury_a"))
    certification.decider(c, "certifiee", "", user("jury_a"))
    assert c.statut == "certifiee"
    decisions = certification.decisions(c)
    assert [d.decision for d in decisions] == ["complement", "certifiee"]
    assert decisions[0].reponse == "Attestation du module 4 déposée ce jour."


def test_completed_dossier_waits_for_a_session_when_none_is_open(app, ready):
    s, (c,) = en_session(ready)
    certification.decider(c, "complement", "Préciser le projet professionnel.", user("jury_a"))
    certification.cloturer_session(s, user("jury_a"))
    certification.completer(c, "Projet professionnel précisé dans le dossier.", user(OF))
    assert c.statut == "completee" and c.session_jury_id is None
    nouvelle = session(ready)
    db.session.refresh(c)
    assert c.session_jury_id == nouvelle.id


@pytest.mark.parametrize("who,outcome", [
    ("jury_a", "ok"), ("certif_pro_a", "ok"),
    ("utilisateur_etablissement_a", ForbiddenError), ("admin_reseau_a", ForbiddenError)])
def test_who_decides(app, ready, who, outcome):
    _, (c,) = en_session(ready)
    if outcome == "ok":
        certification.decider(c, "certifiee", "", user(who))
        assert c.statut == "certifiee"
    else:
        with pytest.raises(outcome):
            certification.decider(c, "certifiee", "", user(who))


def test_a_jury_of_another_certificateur_does_not_see_the_dossier(app, ready, api_token):
    from app.models import Certificateur
    from app.services import accounts

    cpne = db.session.scalars(select(Certificateur).where(Certificateur.type == "cpne")).one()
    accounts.create_user({"username": "jury_cpne", "first_name": "J", "last_name": "C",
                          "email": "jury_cpne@test.fr", "role": "jury",
                          "certificateur_id": cpne.id}, by=None, password=PASSWORD)
    _, (c,) = en_session(ready)
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        certification.decider(c, "certifiee", "", user("jury_cpne"))
    client = app.test_client()
    response = client.post(f"/api/v1/candidature/{c.id}/decision", json={"decision": "certifiee"},
                           headers=api_token("jury_cpne"))
    assert response.status_code == 404


def test_no_decision_outside_an_open_session(app, ready):
    s, (c,) = en_session(ready)
    s.statut = "close"
    db.session.commit()
    with pytest.raises(RuleError, match="n'est pas ouverte"):
        certification.decider(c, "certifiee", "", user("jury_a"))


def test_numbers_have_no_gap_after_a_rollback(app, ready):
    _, dossiers = en_session(ready, n=2)
    assert certification._numero_suivant(YEAR) == f"CLEA-{YEAR}-000001"
    db.session.rollback()  # the decision failed: its number is given back
    certification.decider(dossiers[0], "certifiee", "", user("jury_a"))
    certification.decider(dossiers[1], "certifiee", "", user("jury_a"))
    numeros = db.session.scalars(select(Certificat.numero).order_by(Certificat.numero)).all()
    assert numeros == [f"CLEA-{YEAR}-000001", f"CLEA-{YEAR}-000002"]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_twenty_concurrent_certifications_on_postgresql(app, ready):
    _, dossiers = en_session(ready, n=20)
    ids = [c.id for c in dossiers]
    barrier = threading.Barrier(20)
    errors = []

    def certify(pk):
        barrier.wait()  # before taking a connection: the pool holds 15
        with app.app_context():
            try:
                candidature = db.session.get(Candidature, pk)
                certification.decider(candidature, "certifiee", "", user("jury_a"))
            except Exception as error:  # pragma: no cover - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=certify, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    numeros = db.session.scalars(select(Certificat.numero)).all()
    assert sorted(numeros) == [f"CLEA-{YEAR}-{i:06d}" for i in range(1, 21)]
    assert db.session.get(CompteurCertificat, YEAR).dernier == 20
    assert db.session.scalar(select(func.count()).select_from(Candidature).where(
        Candidature.statut == "certifiee")) == 20


def test_public_verification_page(app, ready):
    _, (c,) = en_session(ready)
    certification.decider(c, "certifiee", "", user("jury_a"))
    numero = certification.certificat_de(c).numero
    client = app.test_client()  # no login
    page = client.get(f"/verifier/{numero}")
    text = T(page)
    assert page.status_code == 200 and "Certificat valide" in text
    assert "Élodie Marie DUPRÉA" in text
    assert TODAY.strftime("%d/%m/%Y") in text
    for private in ("12/04/1985", "3 rue Haute", "elodie@exemple.fr", "ETAB_A1", "Lyon"):
        assert private not in text
    unknown = client.get(f"/verifier/CLEA-{YEAR}-999999")
    text = T(unknown)
    assert unknown.status_code == 404 and "Certificat inconnu" in text
    assert "DUPRÉ" not in text and "Élodie" not in text
    assert client.get(f"/verifier/?numero={numero}").status_code == 302


def test_closing_writes_the_proces_verbal(app, ready, login):
    s, (c1, c2) = en_session(ready, n=2)
    certification.decider(c1, "certifiee", "", user("jury_a"))
    certification.decider(c2, "non_certifiee", "Évaluation finale incomplète", user("jury_a"))
    certification.cloturer_session(s, user("jury_a"))
    assert s.statut == "close" and s.close_le is not None
    text = pdf_text(certification.proces_verbal(s)).replace("\n", " ")
    assert "Procès-verbal du jury CléA" in text
    assert certification.certificat_de(c1).numero in text
    assert "Non certifiée" in text and "Évaluation finale incomplète" in text
    assert "Collège employeurs (1) : E1" in text and "Collège salariés (1) : S1" in text
    assert "Dossiers examinés : 2 — Certifiée : 1 ; Non certifiée : 1 ; Demande de compléments : 0" \
        in text
    assert "Signatures des membres du jury" in text
    assert re.search(r"le \d\d/\d\d/\d{4} \d\d:\d\d", text)
    assert s.proces_verbal_sha256 == hashlib.sha256(certification.proces_verbal(s)).hexdigest()
    page = T(login("jury_a").get(f"/jury/session/{s.id}"))
    assert "Empreinte SHA-256 du procès-verbal" in page and s.proces_verbal_sha256 in page


def test_signed_certificate_replaces_the_generated_one(app, ready):
    _, (c,) = en_session(ready)
    certification.decider(c, "certifiee", "", user("jury_a"))
    certificat = certification.certificat_de(c)
    with pytest.raises(RuleError, match="doit être un fichier PDF"):
        certification.deposer_certificat_signe(certificat, "faux.pdf", b"GIF89a....",
                                               user("jury_a"))
    db.session.rollback()
    signed = b"%PDF-1.4\n% signed by the jury\n%%EOF\n"
    certification.deposer_certificat_signe(certificat, "signe.pdf", signed, user("jury_a"))
    assert certification.certificat_pdf(certificat) == signed
    with pytest.raises(ForbiddenError):
        certification.deposer_certificat_signe(certificat, "signe.pdf", signed, user(OF))


def test_shipments(app, ready, login):
    _, (c, sans_papier) = en_session(ready, n=2, certificat_papier=True)
    sans_papier.certificat_papier = False
    db.session.commit()
    for d in (c, sans_papier):
        certification.decider(d, "certifiee", "", user("jury_a"))
    certificat = certification.certificat_de(c)
    with pytest.raises(ForbiddenError):
        envois.enregistrer_envois([certificat.id], TODAY, user("admin_reseau_a"))
    with pytest.raises(RuleError, match="futur"):
        envois.enregistrer_envois([certificat.id], TODAY + dt.timedelta(days=1),
                                         user("certif_pro_a"))
    with pytest.raises(RuleError, match="Pas de certificat papier"):
        envois.enregistrer_envois([certification.certificat_de(sans_papier).id], TODAY,
                                         user("certif_pro_a"))
    db.session.rollback()
    cp = login("certif_pro_a")
    page = T(cp.get("/envois/"))
    assert certificat.numero in page and "1 certificat à expédier" in page
    export = cp.post("/envois/", data={"export": "1", "certificat": [str(certificat.id)]})
    book = load_workbook(io.BytesIO(export.data))
    assert book.sheetnames == ["Export", "Adresses"]
    sheet = book["Adresses"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:7] == (certificat.numero, "Mme", "Élodie Marie", "DUPRÉAA", "3 rue Haute",
                           "75011", "Paris")
    response = cp.post("/envois/", data={"certificat": [str(certificat.id)],
                                         "date_envoi": TODAY.isoformat()}, follow_redirects=True)
    assert "Envoi enregistré : lot n°" in T(response)
    envoi = db.session.scalars(select(EnvoiCertificat)).one()
    assert envoi.date_envoi == TODAY and "3 rue Haute" in envoi.adresse and "75011 Paris" in \
        envoi.adresse
    assert "Aucun certificat papier à expédier." in T(cp.get("/envois/"))
    of = login(OF)
    page = T(of.get(f"/candidature/{c.id}"))
    assert "Envoyé" in page and "Historique des envois" in page
    assert TODAY.strftime("%d/%m/%Y") in page
    assert login("admin_reseau_a").get("/envois/").status_code == 403


def test_screens_jury_journey(app, ready, login):
    s, (c,) = en_session(ready)
    jury = login("jury_a")
    page = T(jury.get("/jury/"))
    assert s.date_session.strftime("%d/%m/%Y") in page
    page = T(jury.get(f"/jury/session/{s.id}"))
    assert "DUPRÉA" in page and "Examiner et statuer" in page
    page = T(jury.get(f"/jury/dossier/{c.id}"))
    assert "Enregistrer la décision" in page and "Reprendre un emploi" in page
    refused = T(jury.post(f"/jury/dossier/{c.id}/decision",
                          data={"decision": "non_certifiee", "motif": ""}, follow_redirects=True))
    assert "Indiquez le motif de la non-certification." in refused
    db.session.refresh(c)
    assert c.statut == "attente_certification"
    done = T(jury.post(f"/jury/dossier/{c.id}/decision", data={"decision": "certifiee"},
                       follow_redirects=True))
    assert "Décision enregistrée : Certifiée." in done
    numero = certification.certificat_de(c).numero
    pdf = jury.get(f"/jury/certificat/{certification.certificat_de(c).id}")
    assert pdf.mimetype == "application/pdf" and numero in pdf_text(pdf.data)
    # the OF: the decision tab and the certificate
    of = login(OF)
    page = T(of.get(f"/candidature/{c.id}"))
    assert "Décision du jury" in page and numero in page
    assert numero in pdf_text(of.get(f"/candidature/{c.id}/certificat").data)
    # the jury does not reach the OF's screens, the OF does not reach the jury's
    assert jury.get(f"/candidature/{c.id}").status_code == 403
    assert of.get(f"/jury/dossier/{c.id}").status_code == 403
    # closing: the procès-verbal is offered
    page = T(jury.post(f"/jury/session/{s.id}/cloturer", follow_redirects=True))
    assert "le procès-verbal est disponible" in page
    assert jury.get(f"/jury/session/{s.id}/proces-verbal").mimetype == "application/pdf"


def test_session_screens_create_and_open(app, ready, login):
    from app.models import Certificateur

    cert = db.session.scalars(select(Certificateur).where(Certificateur.region == "IDF")).one()
    cp = login("certif_pro_a")
    form = {"certificateur_id": str(cert.id), "date_session": (TODAY + dt.timedelta(days=30))
            .isoformat(), "date_limite": (TODAY + dt.timedelta(days=40)).isoformat(),
            "mode": "presentiel", "lieu": "Paris", "membre_nom_0": "Mme Employeur",
            "membre_college_0": "employeurs"}
    page = T(cp.post("/jury/nouvelle", data=form))
    assert "La date limite de dépôt doit précéder la date de la session." in page
    assert 'value="Mme Employeur"' in page  # input kept
    form["date_limite"] = (TODAY + dt.timedelta(days=20)).isoformat()
    response = cp.post("/jury/nouvelle", data=form, follow_redirects=True)
    page = T(response)
    assert "est créée" in page
    pk = int(response.request.path.rsplit("/", 1)[1])
    page = T(cp.post(f"/jury/session/{pk}/ouvrir", follow_redirects=True))
    assert "Le jury doit être paritaire" in page
    cp.post(f"/jury/session/{pk}/membre", data={"nom": "M. Salarié", "college": "salaries"})
    page = T(cp.post(f"/jury/session/{pk}/ouvrir", follow_redirects=True))
    assert "La session est ouverte" in page
    # the OF sees it in the calendar
    of = T(login(OF).get("/certification/"))
    assert (TODAY + dt.timedelta(days=30)).strftime("%d/%m/%Y") in of and "Paris" in of
    assert login(OF).get("/jury/").status_code == 403
    assert login("admin_reseau_a").get("/jury/nouvelle").status_code == 403


def test_api(app, ready, api_token):
    c = a_envoyer(ready)
    client = app.test_client()
    of, jury, cp = api_token(OF), api_token("jury_a"), api_token("certif_pro_a")
    sent = client.post(f"/api/v1/candidature/{c.id}/envoyer", headers=of)
    assert sent.status_code == 200 and sent.json["result"]["statut"] == "attente_jury"
    again = client.post(f"/api/v1/candidature/{c.id}/envoyer", headers=of)
    assert again.status_code == 400 and "Seule une évaluation validée" in again.json["message"]
    assert client.post(f"/api/v1/candidature/{c.id}/annuler-envoi",
                       headers=of).status_code == 403
    from app.models import Certificateur

    cert = db.session.scalars(select(Certificateur).where(Certificateur.region == "IDF")).one()
    created = client.post("/api/v1/jury/", headers=jury, json={
        "certificateur_id": cert.id, "date_session": TODAY.isoformat(),
        "date_limite": TODAY.isoformat(), "mode": "distanciel",
        "membres": [{"nom": "E", "college": "employeurs"}, {"nom": "S", "college": "salaries"}]})
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert client.post("/api/v1/jury/", headers=of, json={}).status_code == 403
    assert client.post(f"/api/v1/jury/{pk}/ouvrir", headers=jury).status_code == 200
    assert client.get(f"/api/v1/candidature/{c.id}", headers=of).json["result"]["statut"] == \
        "attente_certification"
    assert client.post(f"/api/v1/candidature/{c.id}/decision", headers=of,
                       json={"decision": "certifiee"}).status_code == 403
    asked = client.post(f"/api/v1/candidature/{c.id}/decision", headers=jury,
                        json={"decision": "complement", "motif": "Joindre l'attestation."})
    assert asked.status_code == 200 and asked.json["result"]["statut"] == "attente_complement"
    short = client.post(f"/api/v1/candidature/{c.id}/completer", headers=of, json={"reponse": ""})
    assert short.status_code == 400 and short.json["field"] == "reponse"
    done = client.post(f"/api/v1/candidature/{c.id}/completer", headers=of,
                       json={"reponse": "Attestation déposée dans le dossier."})
    assert done.status_code == 200 and done.json["result"]["statut"] == "completee"
    ok = client.post(f"/api/v1/candidature/{c.id}/decision", headers=cp,
                     json={"decision": "certifiee"})
    assert ok.status_code == 200 and ok.json["result"]["statut"] == "certifiee"
    listed = client.get("/api/v1/certificat/", headers=of).json
    assert listed["count"] == 1
    cert_id = listed["result"][0]["id"]
    assert listed["result"][0]["numero"] == f"CLEA-{YEAR}-000001"
    pdf = client.get(f"/api/v1/certificat/{cert_id}/pdf", headers=of)
    assert pdf.status_code == 200 and f"CLEA-{YEAR}-000001" in pdf_text(pdf.data)
    other = api_token("utilisateur_etablissement_b")
    assert client.get(f"/api/v1/certificat/{cert_id}", headers=other).status_code == 404
    assert client.get("/api/v1/certificat/", headers=other).json["count"] == 0
    closed = client.post(f"/api/v1/jury/{pk}/cloturer", headers=jury)
    assert closed.status_code == 200 and closed.json["result"]["statut"] == "close"
    pv = client.get(f"/api/v1/jury/{pk}/proces-verbal", headers=cp)
    assert pv.status_code == 200 and "Procès-verbal" in pdf_text(pv.data)


def test_not_certified_dossier_resumes_its_path(app, ready, login):
    from app.models.referentiel import SousDomaine
    from app.services import documents, evaluations
    from tests.integration.test_evaluations import PDF, matrice_deposee, remplir

    s = session(ready)
    c = a_envoyer(ready)
    candidatures.transition(c, "attente_eval_prealable", None, "test: through a real préalable")
    db.session.commit()
    ev = evaluations.creer(c, user(OF))
    remplir(ev)
    matrice_deposee(ev)
    evaluations.finaliser(ev, user(OF))
    certification.envoyer_en_certification(c, user(OF))
    assert c.session_jury_id == s.id
    certification.decider(c, "non_certifiee", "Projet professionnel non étayé", user("jury_a"))
    assert not evaluations.rouvrable(ev)  # the jury saw it
    with pytest.raises(RuleError, match="n'attend pas d'évaluation"):
        evaluations.creer(c, user(OF))
    db.session.rollback()
    page = T(login(OF).post(f"/candidature/{c.id}/reprendre", follow_redirects=True))
    assert "Le parcours reprend" in page
    db.session.refresh(c)
    assert c.statut == "attente_eval_finale" and c.certificateur_id is None
    with pytest.raises(RuleError, match="Formations CléA"):
        evaluations.creer(c, user(OF))
    db.session.rollback()
    sd = db.session.scalars(select(SousDomaine.id)).first()
    formation = evaluations.ajouter_formation(c, {
        "intitule": "Communication écrite", "organisme_formateur": "ETAB_A1",
        "formateur": "Paul Form", "date_debut": TODAY.isoformat(),
        "date_fin": TODAY.isoformat(), "duree_heures": "21", "modalite": "presentiel",
        "sous_domaines": [sd]}, user(OF))
    documents.enregistrer(c, "attestation.pdf", PDF, user(OF), nature="attestation",
                          formation_id=formation.id)
    assert evaluations.creer(c, user(OF)).type == "finale"
    with pytest.raises(RuleError, match="Seul un dossier non certifié"):
        certification.reprendre_parcours(c, user(OF))


def test_cancel_after_assignment_returns_to_a_envoyer(app, ready):
    s, (c,) = en_session(ready)
    certification.annuler_envoi(c, "Dossier envoyé par erreur", user("admin_reseau_a"))
    assert c.statut == "a_envoyer" and c.session_jury_id is None
    assert certification.dossiers_de_session(s) == []


@pytest.mark.parametrize("who", ["certif_pro_a", "admin_reseau_a", "superviseur_reseau_a",
                                 "admin_organisme_a", "utilisateur_organisme_a",
                                 "admin_etablissement_a", OF, "jury_a"])
def test_certification_screens_per_role(app, ready, login, who):
    """The calendar is everyone's; sessions are Certif Pro's and the juries'; shipments are
    Certif Pro's (the matrix), and a dossier of another réseau stays out of reach (404)."""
    s, (c,) = en_session(ready)
    client = login(who)
    assert client.get("/certification/").status_code == 200
    sessions = 200 if who in ("certif_pro_a", "jury_a") else 403
    assert client.get("/jury/").status_code == sessions
    assert client.get(f"/jury/session/{s.id}").status_code == sessions
    assert client.get("/envois/").status_code == (200 if who == "certif_pro_a" else 403)
    outsider = login("utilisateur_etablissement_b")
    assert outsider.post(f"/candidature/{c.id}/completer", data={"reponse": "x" * 20}
                         ).status_code == 404
    assert outsider.get(f"/candidature/{c.id}/certificat").status_code == 404


def test_home_page_counts_the_dossiers_a_jury_must_examine(app, ready, login):
    en_session(ready, n=2)
    assert "Dossiers à examiner par le jury" in T(login("jury_a").get("/"))
    from app.services import home

    assert home.summary(user("jury_a")).counts["Dossiers à examiner par le jury"] == 2
    assert home.summary(user("certif_pro_a")).counts["Dossiers à examiner par le jury"] == 2
    assert "Dossiers à examiner par le jury" not in home.summary(user(OF)).counts
