"""A joint jury session as Certif Pro and a jury run it (issue 16, guide §1 and §20): Certif
Pro programmes a session of the Île-de-France jury with four member accounts (two per
college, one president), opens it; two members of each college vote on the dossier; the
president, seeing the votes paritaire and a majority, certifies (with confirmation); the
session closes; its procès-verbal is downloaded and read back against the session page
(members by college, totals, the candidate once, the SHA-256 shown at closing)."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import pdfplumber
from playwright.sync_api import expect

from .test_certification import _prealable_validee
from .ui import confirm, log_out, programmer_session

MEMBRES = [  # (username, first name, last name, college); the first presides
    ("jury.dubois", "Claire", "Dubois", "employeurs"),
    ("jury.petit", "Marc", "Petit", "salaries"),
    ("jury.laurent", "Sophie", "Laurent", "employeurs"),
    ("jury.moreau", "Jean", "Moreau", "salaries"),
]
COLLEGES = {"employeurs": "Collège employeurs", "salaries": "Collège salariés"}


def _prepare(live_app) -> tuple[int, str, dict[str, str]]:
    """The four Jury accounts of Transitions Pro Île-de-France, its earlier sessions ended
    (closed when their day has come, else cancelled), and one dossier sent by FORMAPLUS
    Paris, waiting for a session. Returns the dossier's id, its candidate's name as the
    screens write it, and each account's name as the member list shows it."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Certificateur, Utilisateur
    from app.models.jury import SessionJury
    from app.services import accounts, certification
    from app.services.demo import DEMO_PASSWORD

    pk = _prealable_validee(live_app, civilite="Mme", nom_naissance="Benali", prenoms="Nadia",
                            date_naissance="1991-02-03", email="nadia.benali@exemple.fr")
    with live_app.app_context():
        idf = db.session.scalars(select(Certificateur).where(Certificateur.region == "IDF")).one()
        noms = {}
        for username, prenom, nom, _college in MEMBRES:
            compte = db.session.scalars(select(Utilisateur).where(
                Utilisateur.username == username)).first()
            if compte is None:
                compte = accounts.create_user({
                    "username": username, "first_name": prenom, "last_name": nom,
                    "email": f"{username}@transitionspro-idf.fr", "role": "jury",
                    "certificateur_id": idf.id}, by=None, password=DEMO_PASSWORD)
            noms[username] = str(compte)
        for ancienne in db.session.scalars(select(SessionJury).where(
                SessionJury.certificateur_id == idf.id, SessionJury.statut == "ouverte")).all():
            if certification.session_commencee(ancienne):
                certification.cloturer_session(ancienne, None)
            else:
                certification.annuler_session(ancienne, "Session remplacée par le test.", None)
        from app.models.candidature import Candidature
        dossier = db.session.get(Candidature, pk)
        certification.envoyer_en_certification(dossier, None)
        assert dossier.session_jury_id is None  # waits for the session programmed below
        candidat = dossier.candidat.nom_complet
        db.session.remove()
    return pk, candidat, noms


def test_joint_session_votes_decision_closing_and_proces_verbal(page, live_app, sign_in, shoot,
                                                                tmp_path):
    pk, candidat, noms = _prepare(live_app)
    president = noms[MEMBRES[0][0]]
    day = dt.date.today()

    # Certif Pro programmes the session, adds the four accounts, and opens it.
    sign_in(page, "certifpro")
    programmer_session(page, day, "Paris, 4 rue de la Paix")
    page.locator("main form").get_by_role("button", name="Enregistrer la session").click()
    expect(page.locator(".clea-flashes")).to_contain_text("est créée")
    for i, (username, _p, _n, college) in enumerate(MEMBRES):
        page.locator("#user_id").select_option(label=noms[username])
        page.locator("#college").select_option(college)
        if i == 0:
            page.get_by_label("Président du jury").check()
        page.get_by_role("button", name="Ajouter le membre").click()
        expect(page.locator(".clea-flashes")).to_contain_text("Le membre est ajouté au jury.")
    membres = page.locator("main ul.clea-membres")
    expect(membres.locator("li")).to_have_count(4)
    expect(membres.locator("li").filter(has_text=president)).to_contain_text("président")
    shoot(page, "session-jury-membres")
    page.get_by_role("button", name="Ouvrir la session").click()
    expect(page.locator(".clea-flashes")).to_contain_text(re.compile(
        r"La session est ouverte ; \d+ dossier\(s\) en attente lui ont été affectés\."))
    expect(page.locator("main table")).to_contain_text(candidat)
    session_url = page.url
    log_out(page)

    # Two members of each college vote; the fourth one against, with a motive.
    votes = {"jury.dubois": "Certifiée", "jury.petit": "Certifiée", "jury.laurent": "Certifiée",
             "jury.moreau": "Non certifiée"}
    for username, vote in votes.items():
        sign_in(page, username)
        page.goto(f"/jury/dossier/{pk}")
        expect(page.locator("main")).to_contain_text("Accéder à un poste de préparateur")
        expect(page.get_by_role("button", name="Enregistrer la décision")).to_have_count(
            1 if username == MEMBRES[0][0] else 0)  # only the president decides
        vote_form = page.locator("main form").filter(
            has=page.get_by_role("button", name="Enregistrer mon vote"))
        vote_form.get_by_label(vote, exact=True).check()
        if vote == "Non certifiée":
            vote_form.get_by_label("Motif de votre vote").fill(
                "Le domaine 2 n'est validé que par l'évaluation préalable.")
        vote_form.get_by_role("button", name="Enregistrer mon vote").click()
        expect(page.locator(".clea-flashes")).to_contain_text("Votre vote est enregistré.")
        log_out(page)

    # The president sees the votes paritaire, the majority, and certifies.
    sign_in(page, MEMBRES[0][0])
    page.goto(f"/jury/dossier/{pk}")
    etat = page.locator("#clea-votes-etat")
    expect(etat).to_contain_text("2 employeur(s), 2 salarié(s) ont voté.")
    expect(etat).to_contain_text("Les votes sont paritaires.")
    expect(etat).to_contain_text("Majorité : Certifiée.")
    expect(page.locator("main")).to_contain_text("Le domaine 2 n'est validé que par")
    shoot(page, "jury-votes-president")
    decision = page.locator("main form").filter(
        has=page.get_by_role("button", name="Enregistrer la décision"))
    decision.get_by_label("Certifiée", exact=True).check()
    decision.get_by_role("button", name="Enregistrer la décision").click()
    confirm(page, "Enregistrer la décision")
    expect(page.locator(".clea-flashes")).to_contain_text("Décision enregistrée : Certifiée.")

    # The session closes (with confirmation); its procès-verbal downloads and reads back.
    page.goto(session_url)
    page.get_by_role("button", name="Clôturer la session").click()
    confirm(page, "Clôturer la session")
    expect(page.locator(".clea-flashes")).to_contain_text("La session est close")
    empreinte = page.locator(".clea-empreinte code").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", empreinte)
    shoot(page, "session-jury-close")
    with page.expect_download() as download:
        page.get_by_role("link", name="Procès-verbal (PDF)").click()
    path = tmp_path / "proces-verbal.pdf"
    download.value.save_as(path)
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == empreinte
    with pdfplumber.open(io.BytesIO(content)) as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
    flat = " ".join(text.split())
    assert day.strftime("%d/%m/%Y") in flat
    for username, _p, _n, college in MEMBRES:
        assert noms[username] in flat, (noms[username], flat)
    assert f"{president} (président)" in flat
    assert flat.count(candidat) == 1  # one line per dossier, never twice
    assert "Dossiers examinés : 1 — Certifiée : 1 ; Non certifiée : 0" in flat, flat
    assert "Signature" in flat
