"""Issue 13, finding 7: the audit journal. Every write with before → after, role changes,
logins, downloads and exports of personal data, each with who, when and the address; the
chain is tamper-evident (`flask clea audit-verify`), append-only on PostgreSQL; a person's
de-identification removes their name and keeps the chain verifiable; the « Journal d'audit »
screen and API are Certif Pro's; the dossier's history reads the journal."""
from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import AuditLog
from app.models.candidature import Candidature
from app.security import matrix
from app.security import roles as R
from app.services import accounts, audit, documents
from app.services import candidatures as dossiers
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import PASSWORD, user

CERTIF = "certif_pro_a"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def rows(**where):
    query = select(AuditLog).order_by(AuditLog.id)
    for key, value in where.items():
        query = query.where(getattr(AuditLog, key) == value)
    return list(db.session.scalars(query))


def verify(app):
    return app.test_cli_runner().invoke(args=["clea", "audit-verify"])


@pytest.fixture
def certif(api_token):
    return api_token(CERTIF)


@pytest.fixture
def candidature(app, world):
    habiliter(world, "etab_a1")
    return dossiers.creer(dossier(world), user("utilisateur_etablissement_a"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_field_edit_shows_before_and_after_on_screen_and_api(app, world, login, certif):
    etab_id = world.ids["etab_a1"]
    response = app.test_client().put(f"/api/v1/etablissement/{etab_id}",
                                     json={"nom": "ETAB A1 RENOMMÉ"}, headers=certif)
    assert response.status_code == 200, response.json
    found = app.test_client().get(
        f"/api/v1/audit/?type=Etablissement&objet_id={etab_id}&action=modifier",
        headers=certif).json
    assert found["count"] == 1  # the service's row and its field changes: one row
    row = found["result"][0]
    assert row["changements"]["nom"] == ["ETAB_A1", "ETAB A1 RENOMMÉ"]
    assert row["qui"] == f"Test certif_pro ({CERTIF})"
    assert row["ip"] == "127.0.0.1"
    assert "updated_on" not in row["changements"] and "changed_on" not in row["changements"]
    page = T(login(CERTIF).get(f"/audit/?type=Etablissement&objet_id={etab_id}"))
    assert "Journal d'audit" in page
    assert "ETAB_A1 → ETAB A1 RENOMMÉ" in page
    assert "<strong>Nom</strong> : ETAB_A1" in page  # the field as users name it
    assert "127.0.0.1" in page


def test_role_change_shows_old_and_new_role(app, world, certif):
    target = user("utilisateur_etablissement_a")
    accounts.update_user(target, {"role": R.ADMIN_ETABLISSEMENT.code,
                                  "etablissement_id": world.ids["etab_a1"]},
                         user(CERTIF))
    found = app.test_client().get(
        f"/api/v1/audit/?type=Utilisateur&objet_id={target.id}&action=modifier",
        headers=certif).json["result"]
    assert found[0]["changements"]["roles"] == [["Utilisateur établissement"],
                                                ["Administrateur établissement"]]


def test_secrets_are_masked(app, world):
    target = user("utilisateur_etablissement_a")
    target.password = "pbkdf2:sha256:secret-hash"
    db.session.commit()
    row = rows(object_type="Utilisateur", object_id=target.id)[-1]
    assert row.changements["password"] == ["***", "***"]
    assert "secret-hash" not in (row.changes or "")


def test_logins_are_recorded_with_address(app, world):
    client = app.test_client()
    client.post("/login/", data={"username": "admin_reseau_a", "password": "faux"},
                environ_base={"REMOTE_ADDR": "203.0.113.7"},
                headers={"User-Agent": "Navigateur de test"})
    client.post("/login/", data={"username": "personne", "password": "faux"})
    response = client.post("/login/", data={"username": "admin_reseau_a",
                                            "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "203.0.113.8"})
    assert response.status_code == 302
    refused = rows(action="connexion_refusee")
    assert [r.ip for r in refused] == ["203.0.113.7", "127.0.0.1"]
    assert refused[0].object_id == world.ids["admin_reseau_a"]
    assert refused[0].user_agent == "Navigateur de test"
    assert "personne" in refused[1].detail and refused[1].object_id is None
    (ok,) = rows(action="connexion")
    assert ok.user_id == world.ids["admin_reseau_a"] and ok.ip == "203.0.113.8"
    assert ok.user_name == "Test admin_reseau (admin_reseau_a)"
    # the login's bookkeeping (last_login, counters) is not a change worth a row
    assert not rows(action="modifier", object_type="Utilisateur",
                    object_id=world.ids["admin_reseau_a"])


def test_document_download_and_stats_export_are_recorded(app, world, login, certif,
                                                         candidature):
    owner = user("utilisateur_etablissement_a")
    document = documents.enregistrer(candidature, "piece.pdf", PDF, owner)
    client = login("utilisateur_etablissement_a")
    assert client.get(f"/evaluation/document/{document.id}").status_code == 200
    (row,) = rows(action="telecharger_document")
    assert (row.user_id, row.object_id, row.candidature_id) == (owner.id, document.id,
                                                                candidature.id)
    assert row.detail == "piece.pdf"
    # exports are prepared off the request: recorded when their owner downloads them
    client = login(CERTIF)
    client.post("/stats/export?niveau=3")
    api = app.test_client().post("/api/v1/stats/export?debut=2026-01-01", headers=certif)
    assert app.test_cli_runner().invoke(args=["clea", "exports"]).exit_code == 0
    from app.models import ExportJob

    first = db.session.scalars(select(ExportJob).order_by(ExportJob.id)).first()
    assert client.get(f"/exports/{first.id}/fichier").status_code == 200
    (row,) = rows(action="exporter_parcours")
    assert row.user_id == world.ids[CERTIF] and row.detail == "niveau=3"
    response = app.test_client().get(api.json["fichier_url"], headers=certif)
    assert response.status_code == 200
    assert rows(action="exporter_parcours")[-1].detail == "debut=2026-01-01"


def test_workflow_action_is_one_readable_row_with_its_changes(app, world, candidature):
    dossiers.abandonner(candidature, "emploi", "Reprise d'un emploi en CDI.",
                        user("utilisateur_etablissement_a"))
    mine = rows(candidature_id=candidature.id, object_type="Candidature")
    assert [r.action for r in mine] == ["creer", "abandonner"]
    assert mine[1].changements["statut"] == ["attente_eval_prealable", "abandonnee"]


def test_dossier_history_reads_the_journal(app, world, login, candidature):
    by = user("utilisateur_etablissement_a")
    dossiers.mise_a_jour(candidature, {"objectif_pro": "Devenir cariste en entrepôt "
                                                       "logistique dès cette année."}, by)
    page = T(login("utilisateur_etablissement_a").get(f"/candidature/{candidature.id}"))
    assert "Historique du dossier" in page and "Journal des modifications" in page
    assert "Devenir cariste en entrepôt logistique dès cette année." in page
    assert "Création du dossier" in page  # what the status history showed stays


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_chain_verifies_and_tampering_is_found(app, world, backend, candidature):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "Journal d'audit intègre" in result.output
    total = db.session.scalar(select(func.count()).select_from(AuditLog))
    target = rows()[total // 2]
    position = total // 2 + 1
    if backend == "postgres":  # append-only: the database refuses it
        for statement in ("UPDATE audit_log SET detail = 'falsifié' WHERE id = :id",
                          "DELETE FROM audit_log WHERE id = :id"):
            with pytest.raises(DBAPIError) as refused:
                db.session.execute(text(statement), {"id": target.id})
            assert "ajout seul" in str(refused.value)
            db.session.rollback()
        with pytest.raises(DBAPIError):
            db.session.execute(text("TRUNCATE audit_log"))
        db.session.rollback()
        assert verify(app).exit_code == 0
        return
    db.session.execute(text("UPDATE audit_log SET detail = 'falsifié' WHERE id = :id"),
                       {"id": target.id})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert f"rompu à la ligne {position} (id {target.id})" in result.output


def test_deleted_row_and_forged_anonymisation_are_found(app, world, candidature):
    ids = [r.id for r in rows()]
    db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[3]})
    db.session.commit()
    result = verify(app)
    assert result.exit_code == 1 and "ligne 4 " in result.output
    db.session.execute(text("UPDATE audit_log SET desidentifie = 1, detail = 'x' "
                            "WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    assert "ligne 2 " in verify(app).output


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_desidentifier_removes_the_name_and_keeps_the_chain(app, world, login, candidature):
    by = user("utilisateur_etablissement_a")
    dossiers.mise_a_jour(candidature, {"nom_usage": "Martinez"}, by)
    documents.enregistrer(candidature, "cv-dupre.pdf", PDF, by)
    audit.record(by, "note", None, "Appel de Élodie Marie Dupré au sujet de son dossier")
    db.session.commit()

    def mentions():
        return [r.id for r in rows() if any(
            name.lower() in f"{r.detail} {r.changes}".lower()
            for name in ("Dupré", "Martinez", "Élodie", "1985-04-12"))]

    assert len(mentions()) >= 3
    candidat = candidature.candidat
    changed = audit.desidentifier(candidat, user(CERTIF), "Demande d'effacement")
    db.session.commit()
    assert changed >= 3
    assert mentions() == []
    (anon,) = rows(action="anonymisation")
    assert anon.object_id == candidat.id and anon.detail == "Demande d'effacement"
    assert all(r.desidentifie for r in rows() if r.id in anon.changements["lignes"][1])
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "anonymisées" in result.output
    page = T(login(CERTIF).get(f"/audit/?objet_id={candidat.id}&type=Candidat"))
    assert "[anonymisé]" in page and "Dupré" not in page


def test_deleting_a_dossier_and_its_person_leaves_no_name(app, world, candidature):
    dossiers.supprimer(candidature, user("utilisateur_etablissement_a"))
    assert db.session.get(Candidature, candidature.id) is None
    text_of_journal = " ".join(f"{r.detail} {r.changes}" for r in rows())
    assert "Dupré" not in text_of_journal and "Élodie" not in text_of_journal
    assert rows(action="supprimer", object_type="Candidature")[0].detail == "[anonymisé]"
    assert verify(app).exit_code == 0


ROLE_CASES = [pytest.param(role, id=role.code) for role in R.ROLES]


@pytest.mark.parametrize("role", ROLE_CASES)
def test_only_the_matrix_roles_reach_the_journal(app, world, login, api_token, role):
    """Generated from the matrix (resource « Audit »): screen, export and API."""
    username = world.usernames[role.code]
    want = 200 if matrix.allowed(role, "Audit", matrix.READ) else 403
    client = login(username)
    assert client.get("/audit/").status_code == want
    assert client.get("/audit/export").status_code == want
    response = app.test_client().get("/api/v1/audit/", headers=api_token(username))
    assert response.status_code == want
    if want == 403:
        assert response.json["message"] == "Votre rôle ne permet pas cette action."
    menu = T(client.get("/"))
    assert ("Journal d'audit" in menu) is (want == 200)


def test_anonymous_is_sent_to_login(app):
    response = app.test_client().get("/audit/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert app.test_client().get("/api/v1/audit/").status_code == 401


@pytest.mark.parametrize("query,message", [
    ("du=hier", "Date invalide pour la période (format attendu AAAA-MM-JJ)."),
    ("au=2026-13-40", "Date invalide pour la période (format attendu AAAA-MM-JJ)."),
    ("du=2026-02-01&au=2026-01-01", "La fin de la période doit suivre son début."),
    ("objet_id=douze", "Valeur invalide pour le filtre « objet_id »."),
    ("page=-1", "Valeur invalide pour le filtre « page »."),
    ("qui=" + "x" * 101, "Valeur trop longue pour le filtre « qui »."),
])
def test_bad_filters_are_a_french_400(app, world, login, certif, query, message):
    response = app.test_client().get(f"/api/v1/audit/?{query}", headers=certif)
    assert response.status_code == 400
    assert response.json["message"] == message
    if not query.startswith("page"):
        response = login(CERTIF).get(f"/audit/?{query}")
        assert response.status_code == 400 and message in T(response)
        assert login(CERTIF).get(f"/audit/export?{query}").status_code == 400


def test_filters_pages_and_export(app, world, login, certif):
    by = user("admin_reseau_a")
    for n in range(120):
        audit.record(by, "note", None, f"note {n}")
    db.session.commit()
    client = login(CERTIF)
    page = T(client.get("/audit/?qui=admin_reseau_a&action=note&page=1"))
    assert "Page 2 sur 3" in page and "note 69" in page and "note 70" not in page
    api = app.test_client().get("/api/v1/audit/?qui=admin_reseau&action=note&page=2",
                                headers=certif).json
    assert api["count"] == 120 and len(api["result"]) == 20 and api["page"] == 2
    today = dt.date.today().isoformat()
    assert app.test_client().get(f"/api/v1/audit/?action=note&du={today}&au={today}",
                                 headers=certif).json["count"] == 120
    assert app.test_client().get("/api/v1/audit/?action=note&au=2000-01-01",
                                 headers=certif).json["count"] == 0
    response = client.get("/audit/export?action=note&qui=admin_reseau_a")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Date;Qui;Adresse IP;Navigateur;Action")
    assert len(lines) == 121 and "note 119" in lines[1]
    (export,) = rows(action="exporter_journal")
    assert export.user_id == world.ids[CERTIF]
    assert export.detail == "qui=admin_reseau_a, action=note"


def test_a_page_costs_the_same_with_100000_rows(app, world, login, count_queries):
    client = login(CERTIF)
    client.get("/audit/")  # warm-up (menus, permissions)

    def queries(url):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    small = queries("/audit/")
    now = dt.datetime.now()
    db.session.execute(insert(AuditLog), [
        {"created_on": now, "action": "note", "object_type": "Candidature", "object_id": n,
         "candidature_id": n, "detail": f"ligne {n}", "user_name": "Charge (charge)",
         "changes": '{"statut": ["a", "b"]}', "desidentifie": False}
        for n in range(100_000)])
    db.session.commit()
    client.get("/audit/")  # the test's commit expired the logged-in user: reload it once
    assert queries("/audit/") == small
    assert queries("/audit/?page=1500") == small
    assert queries("/audit/?qui=charge&action=note&page=3") == small
    assert "Page 1501 sur 2001" in T(client.get("/audit/?page=1500"))
