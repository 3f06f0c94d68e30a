"""Personal data (RGPD): the export of a person's data (zip read back, perimeter), their
anonymisation by Certif Pro (motive, nothing left in the tables, files gone, statistics
unchanged, the certificate still verifiable without the name), the retention rules (dry run
changes nothing, the real run applies them), the public « Données personnelles » page, and
every role × the new routes, as the permission matrix says."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from sqlalchemy import MetaData, select, text, update

from app.extensions import db
from app.models import AccountToken, AuditLog, EmailMessage, Notification, Rattachement
from app.models.candidature import Candidat, Candidature, HistoriqueStatut
from app.models.evaluation import Document
from app.security import matrix
from app.security import roles as R
from app.services import audit, candidatures, certification, documents, evaluations, matrice
from app.services import stats
from app.services.errors import RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_certification import session
from tests.integration.test_jury import pdf_text
from tests.world import user

OF = "utilisateur_etablissement_a"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 200
# What identifies the person of these tests, in every form a table could keep it.
TRACES = ("Dupré", "DUPRÉ", "Dupre", "DUPRE", "Élodie", "elodie", "elodie@exemple.fr",
          "1985-04-12", "12/04/1985", "3 rue Haute", "06 12 34 56 78")


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b", "etab_b1")
    return world


def certifie(world, certifier=True, **over):
    """A dossier of ETAB_A1 with a finalized préalable (28/28, signed matrice) and a
    document, sent to the IDF jury and certified (the OF is told: notification and e-mail
    name the person); `certifier=False` stops at « À envoyer en certification »."""
    by = user(OF)
    c = candidatures.creer(dossier(world, **{
        "email": "elodie@exemple.fr", "adresse": "3 rue Haute", "code_postal": "75011",
        "ville": "Paris", "telephone": "06 12 34 56 78", "certificat_papier": True, **over}),
        by, True)
    ev = evaluations.creer(c, None)
    evaluations.enregistrer(ev, {
        "version": ev.version, "evaluateur": "Nadia Évaluatrice",
        "date_evaluation": dt.date.today().isoformat(),
        "resultats": {r.sous_domaine_id: {"acquis": True, "commentaire": "Élodie lit bien"}
                      for r in ev.resultats}}, None)
    documents.enregistrer(c, "matrice.xlsx", matrice.generer(ev), None, nature="matrice",
                          evaluation_id=ev.id)
    evaluations.finaliser(ev, None)
    documents.enregistrer(c, "cv-dupre-elodie.pdf", PDF, by)
    if certifier:
        session(world)
        certification.envoyer_en_certification(c, by)
        certification.decider(c, "certifiee", "", user("jury_a"))
    return c


def outbox_to_person():
    db.session.add(EmailMessage(destinataire="elodie@exemple.fr", sujet="Votre certificat CléA",
                                corps_texte="Bonjour Élodie Marie DUPRÉ, votre certificat.",
                                statut="stocke"))
    db.session.commit()


def export(client, pk, headers=None):
    response = client.get(f"/api/v1/candidat/{pk}/export", headers=headers or {})
    return response


def read_zip(response) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return json.loads(archive.read("donnees.json")), archive


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_export_reads_back_every_personal_field_dossier_and_document(app, ready, api_token,
                                                                      login):
    c = certifie(ready)
    outbox_to_person()
    numero = certification.certificat_de(c).numero
    client = app.test_client()
    response = export(client, c.candidat_id, api_token(OF))
    assert response.status_code == 200, response.json
    assert response.mimetype == "application/zip"
    data, archive = read_zip(response)
    personne = data["personne"]
    assert personne["nom_naissance"].upper() == "DUPRÉ"
    assert personne["prenoms"] == "Élodie Marie"
    assert personne["date_naissance"] == "1985-04-12"
    assert personne["commune_naissance"] == "Lyon" and personne["departement_naissance"] == "69"
    assert personne["email"] == "elodie@exemple.fr" and personne["telephone"] == "06 12 34 56 78"
    assert personne["adresse"] == "3 rue Haute" and personne["code_postal"] == "75011"
    (d,) = data["dossiers"]
    assert d["statut"] == "certifiee" and d["statut_libelle"] == "Certifiée"
    assert [h["vers"] for h in d["historique"]][-1] == "certifiee"
    (ev,) = d["evaluations"]
    assert ev["resultat"] == "valide" and len(ev["resultats"]) == 28
    assert all(r["acquis"] for r in ev["resultats"])
    assert d["decisions_jury"][0]["decision"] == "certifiee"
    assert d["certificat"]["numero"] == numero
    assert d["certificat"]["verification_publique"].endswith(f"/verifier/{numero}")
    cv = next(doc for doc in d["documents"] if doc["nom"] == "cv-dupre-elodie.pdf")
    assert archive.read(cv["fichier"]) == PDF
    assert archive.read(d["certificat"]["fichier"]).startswith(b"%PDF")
    assert "DUPRÉ" in pdf_text(archive.read(d["certificat"]["fichier"]))
    assert data["emails_recus"][0]["sujet"] == "Votre certificat CléA"
    assert "donnees.json" in archive.read("LISEZMOI.txt").decode()
    # The export is in the journal.
    row = db.session.scalars(select(AuditLog).where(
        AuditLog.action == "exporter_donnees_personnelles")).one()
    assert row.user_id == user(OF).id and row.object_id == c.candidat_id
    # The dossier page offers it, and the screen's download is the same zip.
    browser = login(OF)
    page = T(browser.get(f"/candidature/{c.id}"))
    assert "Exporter les données du candidat" in page
    assert "Anonymiser" not in page  # Certif Pro only
    download = browser.get(f"/donnees-personnelles/candidat/{c.candidat_id}/export")
    assert download.status_code == 200
    assert read_zip(download)[0]["personne"]["prenoms"] == "Élodie Marie"


def test_export_outside_the_perimeter_is_404(app, ready, api_token, login):
    c = certifie(ready)
    client = app.test_client()
    response = export(client, c.candidat_id, api_token("utilisateur_etablissement_b"))
    assert response.status_code == 404
    assert response.json == {"message": "Introuvable ou hors de votre périmètre."}
    assert login("admin_reseau_b").get(
        f"/donnees-personnelles/candidat/{c.candidat_id}/export").status_code == 404
    assert export(client, c.candidat_id, api_token("jury_a")).status_code == 403
    assert export(client, 999999, api_token("certif_pro_a")).status_code == 404
    assert not db.session.scalars(select(AuditLog).where(
        AuditLog.action == "exporter_donnees_personnelles")).all()


def test_anonymise_refusals_in_french(app, ready, api_token):
    c = certifie(ready)
    client = app.test_client()
    url = f"/api/v1/candidat/{c.candidat_id}/anonymiser"
    certif = api_token("certif_pro_a")
    for body in ({}, {"motif": "court"}, None):
        response = client.post(url, json=body, headers=certif)
        assert response.status_code == 400
        assert "motif de l'anonymisation" in response.json["message"]
    response = client.post(url, json={"motif": 12}, headers=certif)  # checked by the schema
    assert (response.status_code, response.json["message"]) == (400, "« motif » : Texte attendu.")
    for who in ("admin_reseau_a", OF):
        response = client.post(url, json={"motif": "Demande d'effacement écrite"},
                               headers=api_token(who))
        assert response.status_code == 403
        assert response.json == {"message": "Votre rôle ne permet pas cette action."}
    # A dossier before the jury stays whole until the decision.
    other = candidatures.creer(dossier(ready, nom_naissance="Bernard", prenoms="Paul",
                                       date_naissance="1970-02-02", email="p@exemple.fr",
                                       adresse="1 rue", code_postal="75001", ville="Paris"),
                               user(OF), True)
    candidatures.transition(other, "a_envoyer", None, "test")
    db.session.commit()
    certification.envoyer_en_certification(other, user(OF))
    response = client.post(f"/api/v1/candidat/{other.candidat_id}/anonymiser",
                           json={"motif": "Demande d'effacement écrite"}, headers=certif)
    assert response.status_code == 400 and "devant le jury" in response.json["message"]
    assert db.session.get(Candidat, c.candidat_id).nom_naissance.upper() == "DUPRÉ"


def _all_text(exclude=()) -> str:
    """Every row of every table, as text (what a database dump would show)."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    chunks = []
    for table in metadata.sorted_tables:
        if table.name in exclude:
            continue
        for row in db.session.execute(select(table)).all():
            chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_anonymisation_leaves_no_trace_keeps_stats_and_the_certificate(app, ready, api_token,
                                                                       login):
    c = certifie(ready)
    outbox_to_person()
    audit.record(None, "appel", c, "Appel de Élodie Marie DUPRÉ au 06 12 34 56 78")
    db.session.commit()
    numero = certification.certificat_de(c).numero
    fichiers = [documents.chemin(d) for d in db.session.scalars(select(Document))]
    assert fichiers and all(f.exists() for f in fichiers)
    assert "DUPRÉ" in _all_text() and "elodie@exemple.fr" in _all_text()
    before = stats.indicateurs(user("certif_pro_a"), stats.Filtres()).as_dict()

    response = app.test_client().post(
        f"/api/v1/candidat/{c.candidat_id}/anonymiser",
        json={"motif": "Demande d'effacement de Élodie DUPRÉ du 3 mars"},
        headers=api_token("certif_pro_a"))
    assert response.status_code == 200, response.json
    assert "anonymisé" in response.json["message"]
    db.session.expire_all()

    dump = _all_text().lower()
    for trace in TRACES:
        assert trace.lower() not in dump, trace
    person = db.session.get(Candidat, c.candidat_id)
    assert person.anonymise and person.nom_complet == "Candidat anonymisé"
    assert person.email is None and person.adresse is None and person.commune_naissance is None
    assert not db.session.scalars(select(Document)).all()
    assert not any(f.exists() for f in fichiers)
    message = db.session.scalars(select(EmailMessage).where(
        EmailMessage.sujet == "Votre certificat CléA")).one()
    assert message.destinataire.endswith(".invalid") or message.destinataire.endswith("@invalid")
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "anonymisation")).one()
    assert row.user_id == user("certif_pro_a").id and "3 mars" in row.detail
    # Statistics unchanged.
    assert stats.indicateurs(user("certif_pro_a"), stats.Filtres()).as_dict() == before
    # The public check still answers, without the name.
    page = app.test_client().get(f"/verifier/{numero}")
    assert page.status_code == 200
    text_ = T(page)
    assert "Certificat valide" in text_ and numero in text_
    assert "Titulaire : données anonymisées." in text_ and "CléA — socle" in text_
    assert "DUPR" not in text_ and "Élodie" not in text_
    # The certificate PDF no longer names the person.
    certificat = certification.certificat_de(db.session.get(Candidature, c.id))
    assert "DUPR" not in pdf_text(certification.certificat_pdf(certificat))
    # Shown as « Candidat anonymisé », no more export, not twice.
    browser = login("certif_pro_a")
    fiche = T(browser.get(f"/candidature/{c.id}"))
    assert "Candidat anonymisé" in fiche and "Exporter les données du candidat" not in fiche
    assert "Anonymiser le candidat" not in fiche
    assert "Candidat anonymisé" in T(browser.get("/evaluations/?statut=certifiee"))
    again = export(app.test_client(), c.candidat_id, api_token("certif_pro_a"))
    assert again.status_code == 400 and "anonymisé" in again.json["message"]
    twice = app.test_client().post(f"/api/v1/candidat/{c.candidat_id}/anonymiser",
                                   json={"motif": "Deuxième demande d'effacement"},
                                   headers=api_token("certif_pro_a"))
    assert twice.status_code == 400
    assert twice.json["message"] == "Ce candidat est déjà anonymisé."
    refused = browser.get(f"/candidature/{c.id}/modifier", follow_redirects=True)
    assert "Ce candidat est anonymisé : son dossier ne peut plus être modifié." in T(refused)


def test_anonymisation_is_all_or_nothing(app, ready, monkeypatch):
    """A failure in the middle leaves the person, the rows and the files as they were."""
    from app.services import rgpd

    c = certifie(ready)
    fichiers = [documents.chemin(d) for d in db.session.scalars(select(Document))]

    def boom(person):
        raise RuntimeError("panne")

    monkeypatch.setattr(rgpd, "_remplacer_identite", boom)
    with pytest.raises(RuntimeError):
        rgpd.anonymiser(db.session.get(Candidat, c.candidat_id), "Demande d'effacement écrite",
                        user("certif_pro_a"))
    db.session.expire_all()
    person = db.session.get(Candidat, c.candidat_id)
    assert person.nom_naissance.upper() == "DUPRÉ" and not person.anonymise
    assert len(db.session.scalars(select(Document)).all()) == len(fichiers)
    assert all(f.exists() for f in fichiers)
    assert not db.session.scalars(select(AuditLog).where(
        AuditLog.action == "anonymisation")).all()


def test_screen_anonymise_asks_then_acts(app, ready, login):
    c = certifie(ready)
    browser = login("certif_pro_a")
    fiche = T(browser.get(f"/candidature/{c.id}"))
    assert "Anonymiser le candidat" in fiche and 'data-confirm-title="Anonymiser ce candidat ?"' in fiche
    section = fiche.split('id="anonymiser"')[1].split("</section>")[0]
    assert "onclick" not in section and "<script" not in section
    url = f"/donnees-personnelles/candidat/{c.candidat_id}/anonymiser"
    refused = browser.post(url, data={"motif": "", "dossier": c.id}, follow_redirects=True)
    assert "Indiquez le motif de l'anonymisation" in T(refused)
    # Without JavaScript (no confirme=1): the dialog's question as a page; nothing done yet.
    asked = browser.post(url, data={"motif": "Demande d'effacement écrite", "dossier": c.id})
    assert asked.status_code == 200 and "Anonymiser ce candidat ?" in T(asked)
    assert not db.session.get(Candidat, c.candidat_id).anonymise
    done = browser.post(url, data={"motif": "Demande d'effacement écrite", "dossier": c.id,
                                   "confirme": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/candidature/{c.id}")
    db.session.expire_all()
    assert db.session.get(Candidat, c.candidat_id).anonymise


def _old(days=800):
    return dt.datetime.now() - dt.timedelta(days=days)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_retention_dry_run_reports_and_changes_nothing_then_applies(app, ready):
    old = certifie(ready, False, nom_naissance="Ancien", prenoms="Abel",
                   date_naissance="1970-01-01", email="abel@exemple.fr")
    recent = certifie(ready, False, nom_naissance="Recent", prenoms="Rémi",
                      date_naissance="1971-01-01", email="remi@exemple.fr")
    for c in (old, recent):
        candidatures.abandonner(c, "emploi", "", user(OF))
    db.session.execute(update(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id == old.id, HistoriqueStatut.vers == "abandonnee")
        .values(le=_old(6 * 366)))
    r = Rattachement(candidature_id=recent.id, etablissement_origine_id=ready.ids["etab_a1"],
                     etablissement_cible_id=ready.ids["etab_b1"], motif="demenagement",
                     statut="refusee", motif_refus="Non", demande_le=_old(), decide_le=_old())
    db.session.add(r)
    db.session.add(EmailMessage(destinataire="x@exemple.fr", sujet="Vieux", corps_texte="x",
                                statut="envoye", created_on=_old()))
    db.session.add(EmailMessage(destinataire="y@exemple.fr", sujet="Récent", corps_texte="y",
                                statut="envoye"))
    db.session.add(AccountToken(user_id=user(OF).id, purpose="reset", token_hash="a" * 64,
                                expires_at=_old()))
    db.session.add(AccountToken(user_id=user(OF).id, purpose="reset", token_hash="b" * 64,
                                expires_at=dt.datetime.now() + dt.timedelta(days=1)))
    db.session.commit()

    def counts():
        return (db.session.get(Candidat, old.candidat_id).anonymise,
                db.session.get(Candidat, recent.candidat_id).anonymise,
                len(db.session.scalars(select(Rattachement)).all()),
                len(db.session.scalars(select(EmailMessage)).all()),
                len(db.session.scalars(select(AccountToken)).all()))

    before = counts()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clea", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "simulation (rien n'est modifié)" in result.output
    lines = result.output.splitlines()
    assert "  - Candidats anonymisés (dossiers abandonnés depuis plus de 5 ans) : 1" in lines
    assert "  - Demandes de rattachement refusées depuis plus de 365 jours : 1" in lines
    assert "  - E-mails de plus de 365 jours supprimés de la boîte d'envoi : 1" in lines
    assert "  - Liens de connexion expirés depuis plus de 365 jours : 1" in lines
    db.session.expire_all()
    assert counts() == before

    result = runner.invoke(args=["clea", "retention"])
    assert result.exit_code == 0, result.output
    assert "appliquée" in result.output
    assert [line for line in result.output.splitlines() if line.startswith("  - ")] == \
        [line for line in lines if line.startswith("  - ")]
    db.session.expire_all()
    assert counts() == (True, False, before[2] - 1, before[3] - 1, before[4] - 1)
    assert not db.session.scalars(select(EmailMessage).where(EmailMessage.sujet == "Vieux")).all()
    # The anonymised person cannot be found again, nor brought back.
    assert candidatures.rechercher("anonyme", user("certif_pro_a")) == []
    assert candidatures.rechercher("ancien", user("certif_pro_a")) == []
    with pytest.raises(RuleError, match="anonymisé"):
        candidatures.reintegrer(db.session.get(Candidature, old.id), user("certif_pro_a"))
    # Once done, nothing is left to do.
    result = runner.invoke(args=["clea", "retention", "--dry-run"])
    assert all(line.endswith(": 0") for line in result.output.splitlines()[1:])


def test_retention_job_is_scheduled_and_runs_under_its_lock(app, ready):
    from app.jobs.scheduler import JOBS, run_job

    assert "retention" in JOBS
    bilan = run_job(app, "retention")
    assert not bilan.simulation and len(bilan.regles) == 4


def test_public_page_states_processings_retention_and_rights(app, login):
    app.config["CLEA_RETENTION_EMAILS_JOURS"] = 200
    app.config["CLEA_DPO_EMAIL"] = "dpo@certif-pro.fr"
    response = app.test_client().get("/donnees-personnelles/")
    assert response.status_code == 200
    page = T(response)
    for title in ("Comptes utilisateurs", "Dossiers candidats", "Évaluations et formations",
                  "Certification et jury", "Certificats et vérification publique", "E-mails",
                  "Journal d'audit", "Base légale", "Conservation", "Destinataires",
                  "Accès et portabilité", "Rectification", "Effacement et limitation",
                  "Opposition", "CNIL", "dpo@certif-pro.fr"):
        assert title in page, title
    assert "Supprimés de la boîte d'envoi 200 jours après leur écriture." in page
    assert "anonymisée 5 ans après le dernier abandon" in page
    assert 'href="/donnees-personnelles/"' in T(app.test_client().get("/login/"))
    profile = T(login("utilisateur_etablissement_a").get("/profil/"))
    assert 'href="/donnees-personnelles/"' in profile


# --- every role × the new routes, from the permission matrix -------------------------------

CASES = [pytest.param(role, id=role.code) for role in R.ROLES]


def _want(role, right, other):
    if not matrix.allowed(role, "DonneesPersonnelles", right):
        return 403
    if other and role.scope != R.NATIONAL:
        return 404
    return 200


@pytest.mark.parametrize("role", CASES)
def test_matrix_for_personal_data(app, ready, login, api_token, role):
    own = candidatures.creer(dossier(ready), user(OF))
    other = candidatures.creer(dossier(ready, etab="etab_b1", nom_naissance="Bernard",
                                       prenoms="Paul", date_naissance="1970-02-02"),
                               user("utilisateur_etablissement_b"))
    username = ready.usernames[role.code]
    browser = login(username)
    headers = api_token(username)
    api = app.test_client()
    checks = []
    for label, c in (("own", own), ("other", other)):
        want = _want(role, matrix.READ, label == "other")
        checks.append((f"API export {label}", want,
                       export(api, c.candidat_id, headers).status_code))
        checks.append((f"UI export {label}", want, browser.get(
            f"/donnees-personnelles/candidat/{c.candidat_id}/export").status_code))
        # Without a motive, nothing happens: Certif Pro gets the French 400 (the UI, its
        # flash and the way back to the dossier), every other role 403.
        want = _want(role, matrix.UPDATE, label == "other")
        checks.append((f"API anonymiser {label}", 400 if want == 200 else want, api.post(
            f"/api/v1/candidat/{c.candidat_id}/anonymiser", json={},
            headers=headers).status_code))
        checks.append((f"UI anonymiser {label}", 302 if want == 200 else want, browser.post(
            f"/donnees-personnelles/candidat/{c.candidat_id}/anonymiser",
            data={"motif": ""}).status_code))
    assert browser.get("/donnees-personnelles/").status_code == 200
    wrong = [c for c in checks if c[1] != c[2]]
    assert not wrong, "\n".join(f"{d}: attendu {w}, obtenu {g}" for d, w, g in wrong)
    assert not any(db.session.get(Candidat, c.candidat_id).anonymise for c in (own, other))
