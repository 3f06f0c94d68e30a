"""Candidatures: creation after the duplicate checks, national search, status machine with
history, abandonment / réintégration / automatic abandonment, deletion, the Évaluations tab
gated by the habilitation."""
from __future__ import annotations

import datetime as dt
import html
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.candidature import Candidat, Candidature, HistoriqueStatut
from app.services import candidatures as service
from app.services import habilitations
from app.services.errors import ConflictError, RuleError
from tests.conftest import BACKENDS
from tests.world import user

TODAY = dt.date.today()


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def habiliter(world, *keys):
    for key in keys:
        hab = habilitations.demander({"etablissement_id": world.ids[key]}, None)
        habilitations.decider(hab, {"decision": "validee",
                                    "date_debut": TODAY - dt.timedelta(days=1),
                                    "date_fin": TODAY + dt.timedelta(days=365)}, None)


def dossier(world, etab="etab_a1", **over):
    data = {"etablissement_id": world.ids[etab], "civilite": "Mme", "nom_naissance": "Dupré",
            "prenoms": "Élodie Marie", "date_naissance": "1985-04-12",
            "commune_naissance": "Lyon", "departement_naissance": "69",
            "statut_inscription": "demandeur_emploi",
            "objectif_pro": "Reprendre un emploi dans la logistique après une reconversion.",
            "objectif_extra_pro": "Gagner en autonomie dans les démarches du quotidien."}
    data.update(over)
    return data


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b", "etab_b1")
    return world


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_create_and_history(app, ready, login):
    client = login("utilisateur_etablissement_a")
    response = client.post("/candidature/nouvelle", data=dossier(ready))
    assert response.status_code == 302
    c = db.session.execute(select(Candidature)).scalar_one()
    assert c.statut == "attente_eval_prealable"
    assert c.candidat.recherche == "dupre elodie marie"
    page = T(client.get(response.headers["Location"]))
    assert "En attente d'évaluation préalable" in page and "Création du dossier" in page
    assert "Dossier créé le" in page
    assert "DUPRÉ" in T(client.get("/evaluations/"))
    assert "DUPRÉ" not in T(login("utilisateur_etablissement_b").get("/evaluations/"))


def test_refusals_in_french(app, ready, login):
    client = login("utilisateur_etablissement_a")
    cases = [({"objectif_pro": "trop court"}, "au moins 30 caractères"),
             ({"date_naissance": "2020-01-01"}, "au moins 16 ans"),
             ({"commune_naissance": "", "pays_naissance": ""}, "commune"),
             ({"statut_inscription": "demandeur_emploi", "socle_contextualise": "y"},
              "ne concernent que les salariés"),
             ({"departement_naissance": "99"}, "Département de naissance invalide")]
    for over, message in cases:
        response = client.post("/candidature/nouvelle", data=dossier(ready, **over))
        assert response.status_code == 200 and message in T(response), message
    assert count(Candidature) == 0


def test_exact_duplicate_refused_near_duplicate_confirmed(app, ready, login):
    service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    client = login("utilisateur_etablissement_b")
    same = dossier(ready, etab="etab_b1", nom_naissance="DUPRE", prenoms="elodie")
    response = client.post("/candidature/nouvelle", data=same)
    assert "Ce candidat existe déjà" in T(response) and "rattachement" in T(response)
    assert count(Candidature) == 1
    near = dossier(ready, etab="etab_b1", nom_naissance="Duprey")
    response = client.post("/candidature/nouvelle", data=near)
    assert "Des candidats proches existent déjà" in T(response)
    assert "DUPRÉ Élodie Marie" in T(response)
    assert count(Candidature) == 1
    response = client.post("/candidature/nouvelle", data={**near, "confirmer_homonymes": "y"})
    assert response.status_code == 302 and count(Candidature) == 2


def test_database_refuses_two_live_dossiers_and_two_certifications(app, ready):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    db.session.add(Candidature(candidat_id=c.candidat_id, etablissement_id=c.etablissement_id,
                               statut="attente_eval_finale", statut_inscription="autre",
                               objectif_pro="x", objectif_extra_pro="x"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    db.session.execute(text("UPDATE candidature SET statut='certifiee'"))
    db.session.add(Candidature(candidat_id=c.candidat_id, etablissement_id=c.etablissement_id,
                               statut="non_certifiee", statut_inscription="autre",
                               objectif_pro="x", objectif_extra_pro="x"))
    db.session.flush()  # a closed path beside a certification is allowed...
    db.session.add(Candidature(candidat_id=c.candidat_id, etablissement_id=c.etablissement_id,
                               statut="certifiee", statut_inscription="autre",
                               objectif_pro="x", objectif_extra_pro="x"))
    with pytest.raises(IntegrityError):  # ...a second certification is not
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_simultaneous_creations_leave_one_dossier(app, ready):
    barrier = threading.Barrier(2)
    outcomes = []

    def create(username, etab):
        with app.app_context():
            barrier.wait()
            try:
                service.creer(dossier(ready, etab=etab), user(username))
                outcomes.append("créé")
            except ConflictError as error:
                outcomes.append(error.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=("utilisateur_etablissement_a", "etab_a1")),
               threading.Thread(target=create, args=("utilisateur_etablissement_b", "etab_b1"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert count(Candidature) == 1 and count(Candidat) == 1
    assert outcomes.count("créé") == 1


def test_national_search(app, ready, login):
    service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    service.creer(dossier(ready, etab="etab_b1", nom_naissance="Martin", prenoms="Léa",
                          date_naissance="1990-01-01"), user("utilisateur_etablissement_b"))
    client = login("utilisateur_etablissement_a")
    for term in ("Élodie", "elodie", "DUPRE", "dupré élo"):
        page = T(client.get(f"/recherche/?q={term}"))
        assert "DUPRÉ" in page and "Consulter" in page, term
    page = T(client.get("/recherche/?q=lea"))
    assert "MARTIN" in page and "Demander le rattachement" in page and "ETAB_B1" in page
    assert "Aucun candidat." in T(client.get("/recherche/?q=zzz"))
    for i in range(51):
        db.session.add(Candidat(civilite="M.", nom_naissance="Durand", prenoms=f"P{i}",
                                date_naissance=dt.date(1980, 1, 1) + dt.timedelta(days=i),
                                cle_identite=f"durand|p{i}", recherche=f"durand p{i}",
                                recherche_prenom=f"p{i} durand", commune_naissance="X"))
    db.session.commit()
    assert "Recherche trop large, précisez." in T(client.get("/recherche/?q=durand"))
    assert "DURAND" in T(client.get("/recherche/?q=durand p1"))


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_search_uses_the_index_on_100000_candidats(app, ready):
    db.session.execute(text("""
        INSERT INTO candidat (civilite, nom_naissance, prenoms, date_naissance, cle_identite,
                              recherche, recherche_prenom, created_on)
        SELECT 'M.', 'Nom' || g, 'Prenom' || g, DATE '1980-01-01' + (g % 9000),
               'nom' || g || '|prenom' || g || '|x', 'nom' || g || ' prenom' || g,
               'prenom' || g || ' nom' || g, now()
        FROM generate_series(1, 100000) AS g"""))
    db.session.commit()
    db.session.execute(text("ANALYZE candidat"))
    from sqlalchemy.dialects import postgresql

    query = (select(Candidat).where(
        (Candidat.recherche.like("nom4242%")) | (Candidat.recherche_usage.like("nom4242%"))
        | (Candidat.recherche_prenom.like("nom4242%"))).limit(51))
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    plan = "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
    assert "Seq Scan on candidat" not in plan, plan
    assert "ix_candidat_recherche" in plan, plan
    assert len(service.rechercher("nom4242", None)) == 11  # nom4242 and nom42420..nom42429


def test_abandon_reintegrate_and_history(app, ready, login):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    client = login("admin_etablissement_a")
    response = client.post(f"/candidature/{c.id}/abandonner", data={"motif": ""},
                           follow_redirects=True)
    assert "Choisissez le motif de l'abandon" in T(response)
    response = client.post(f"/candidature/{c.id}/abandonner",
                           data={"motif": "emploi", "texte": "CDI signé"}, follow_redirects=True)
    assert "L'abandon du dossier est enregistré" in T(response)
    db.session.refresh(c)
    assert c.statut == "abandonnee" and c.statut_avant_abandon == "attente_eval_prealable"
    assert "DUPRÉ" in T(client.get("/evaluations/abandonnees/"))
    assert "DUPRÉ" not in T(client.get("/evaluations/"))
    response = client.post(f"/candidature/{c.id}/reintegrer", follow_redirects=True)
    assert "Le dossier est réintégré" in T(response)
    db.session.refresh(c)
    assert c.statut == "attente_eval_prealable" and c.motif_abandon is None
    steps = [(h.de, h.vers) for h in c.historique]
    assert steps == [(None, "attente_eval_prealable"), ("attente_eval_prealable", "abandonnee"),
                     ("abandonnee", "attente_eval_prealable")]
    assert "Reprise d'emploi — CDI signé" in T(client.get(f"/candidature/{c.id}"))


def test_status_machine_refuses_illegal_moves(app, ready):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    with pytest.raises(RuleError, match="Changement de statut impossible"):
        service.transition(c, "certifiee", None)
    db.session.rollback()
    service.transition(c, "a_envoyer", None, "Évaluation validée")
    service.transition(c, "attente_jury", None)
    db.session.commit()
    with pytest.raises(RuleError, match="ne peut pas être déclaré abandonné"):
        service.abandonner(c, "emploi", "", user("admin_etablissement_a"))


def test_automatic_abandonment_after_five_years(app, ready):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    recent = service.creer(dossier(ready, nom_naissance="Martin", date_naissance="1990-01-01"),
                           user("utilisateur_etablissement_a"))
    c.date_prealable = TODAY - dt.timedelta(days=5 * 365 + 2)
    recent.date_prealable = TODAY - dt.timedelta(days=4 * 365)
    db.session.commit()
    assert service.abandons_automatiques() == 1
    assert service.abandons_automatiques() == 0  # idempotent
    db.session.refresh(c)
    db.session.refresh(recent)
    assert c.statut == "abandonnee" and c.motif_abandon == "automatique"
    assert recent.statut == "attente_eval_prealable"
    last = db.session.scalars(select(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id == c.id).order_by(HistoriqueStatut.id.desc())).first()
    assert "plus de 5 ans" in last.motif and last.par_id is None


def test_delete_only_before_any_evaluation(app, ready, login):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    client = login("utilisateur_etablissement_a")
    response = client.post(f"/candidature/{c.id}/supprimer", follow_redirects=True)
    assert "Le dossier est supprimé" in T(response)
    assert count(Candidature) == 0 and count(Candidat) == 0
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    c.date_prealable = TODAY
    db.session.commit()
    response = client.post(f"/candidature/{c.id}/supprimer", follow_redirects=True)
    assert "ne peut plus être supprimé" in T(response) and count(Candidature) == 1


def test_tab_closed_without_habilitation(app, world, login):
    client = login("utilisateur_etablissement_a")
    response = client.get("/evaluations/")
    assert response.status_code == 403
    assert "habilitation CléA valide" in T(response)
    assert client.get("/candidature/nouvelle").status_code == 403
    home = T(client.get("/"))
    assert "/evaluations/" not in home
    habiliter(world, "etab_a1")
    assert client.get("/evaluations/").status_code == 200
    assert "/evaluations/" in T(client.get("/"))


def test_other_perimeter_is_404(app, ready, login):
    c = service.creer(dossier(ready, etab="etab_b1"), user("utilisateur_etablissement_b"))
    client = login("admin_reseau_a")
    assert client.get(f"/candidature/{c.id}").status_code == 404
    assert client.post(f"/candidature/{c.id}/abandonner",
                       data={"motif": "emploi"}).status_code == 404


def test_list_queries_are_bounded(app, ready, login, count_queries):
    client = login("admin_reseau_a")
    counts = []
    for batch in range(2):
        for i in range(12):
            service.creer(dossier(ready, nom_naissance=f"Nom{batch}x{i}",
                                  date_naissance=(dt.date(1970, 1, 1)
                                                  + dt.timedelta(days=batch * 100 + i))
                                  .isoformat()), user("admin_reseau_a"), True)
        client.get("/evaluations/")  # warm-up (first-request caches)
        with count_queries() as counter:
            assert client.get("/evaluations/").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts  # 12 or 24 rows: the same statements


@pytest.mark.parametrize("role_code", [
    "certif_pro", "admin_reseau", "superviseur_reseau", "admin_organisme",
    "utilisateur_organisme", "admin_etablissement", "utilisateur_etablissement", "jury"])
def test_matrix_for_the_evaluations_tab(app, ready, login, role_code):
    """Every role × the Évaluations screens, as app/security/matrix.py says."""
    from app.security import matrix
    from app.security import roles as R

    role = R.BY_CODE[role_code]
    own = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    other = service.creer(dossier(ready, etab="etab_b1", nom_naissance="Bernard",
                                  prenoms="Paul", date_naissance="1970-02-02"),
                          user("utilisateur_etablissement_b"))
    client = login(ready.usernames[role_code])
    rights = matrix.rights(role, "Candidature")
    read = 200 if "read" in rights else 403
    assert client.get("/evaluations/").status_code == read
    assert client.get("/recherche/?q=dupre").status_code == read
    want_own = 200 if "read" in rights else 403
    assert client.get(f"/candidature/{own.id}").status_code == want_own
    want_other = (200 if role.scope == R.NATIONAL else 404) if "read" in rights else 403
    assert client.get(f"/candidature/{other.id}").status_code == want_other
    want = 200 if "create" in rights else 403
    assert client.get("/candidature/nouvelle").status_code == want
    if role.scope != R.NATIONAL:
        want = 404 if "update" in rights else 403
        assert client.post(f"/candidature/{other.id}/abandonner",
                           data={"motif": "emploi"}).status_code == want
        want = 404 if "delete" in rights else 403
        assert client.post(f"/candidature/{other.id}/supprimer").status_code == want


def test_api_candidature_and_search(app, world, api_token):
    client = app.test_client()
    headers = api_token("utilisateur_etablissement_a")
    # Without a valid habilitation, every endpoint behind the tab is closed.
    response = client.get("/api/v1/candidature/", headers=headers)
    assert response.status_code == 403 and "habilitation CléA valide" in response.json["message"]
    assert client.post("/api/v1/candidature/", json=dossier(world),
                       headers=headers).status_code == 403
    habiliter(world, "etab_a1", "etab_b1")
    response = client.post("/api/v1/candidature/", json=dossier(world), headers=headers)
    assert response.status_code == 201, response.json
    pk = response.json["id"]
    assert response.json["result"]["statut"] == "attente_eval_prealable"
    again = client.post("/api/v1/candidature/", json=dossier(world), headers=headers)
    assert again.status_code == 409 and "existe déjà" in again.json["message"]
    near = dossier(world, nom_naissance="Duprey")
    assert client.post("/api/v1/candidature/", json=near, headers=headers).status_code == 409
    assert client.post("/api/v1/candidature/", json={**near, "confirmer_homonymes": True},
                       headers=headers).status_code == 201
    bad = client.post(f"/api/v1/candidature/{pk}/abandonner", json={"motif": "x"},
                      headers=headers)
    assert bad.status_code == 400 and "motif" in bad.json["message"]
    ok = client.post(f"/api/v1/candidature/{pk}/abandonner", json={"motif": "sante"},
                     headers=headers)
    assert ok.status_code == 200 and ok.json["result"]["statut"] == "abandonnee"
    ok = client.post(f"/api/v1/candidature/{pk}/reintegrer", headers=headers)
    assert ok.json["result"]["statut"] == "attente_eval_prealable"
    found = client.get("/api/v1/recherche/?q=Dupré Élodie", headers=headers).json
    assert found["count"] == 1 and found["result"][0]["dans_perimetre"] is True
    other = client.get("/api/v1/recherche/?q=DUPRE elodie",
                       headers=api_token("utilisateur_etablissement_b")).json
    assert other["result"][0]["dans_perimetre"] is False
    assert other["result"][0]["candidature_id"] is None
    assert client.get(f"/api/v1/candidature/{pk}",
                      headers=api_token("utilisateur_etablissement_b")).status_code == 404
    assert client.get("/api/v1/recherche/?q=e", headers=headers).status_code == 400


def test_dashboard(app, ready, login):
    service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    b = service.creer(dossier(ready, nom_naissance="Martin", prenoms="Léa",
                              date_naissance="1990-01-01"), user("utilisateur_etablissement_a"))
    service.transition(b, "attente_eval_finale", None)
    c = service.creer(dossier(ready, nom_naissance="Petit", prenoms="Jean",
                              date_naissance="1975-03-03"), user("utilisateur_etablissement_a"))
    for status in ("a_envoyer", "attente_jury"):
        service.transition(c, status, None)
    db.session.commit()
    page = T(login("utilisateur_etablissement_a").get("/"))
    assert "Tableau de bord" in page and "Proposer une candidature" in page
    import re

    def stat(label):
        match = re.search(r'clea-stat-value">(\d+)</span>\s*<span class="clea-stat-label">'
                          + re.escape(label), page)
        return int(match.group(1))

    assert stat("En attente d'une évaluation préalable") == 1
    assert stat("En attente d'une évaluation finale") == 1
    assert stat("En attente d'affectation à un jury") == 1
    latest = page.index("PETIT Jean"), page.index("MARTIN Léa"), page.index("DUPRÉ Élodie")
    assert latest[0] < latest[1] < latest[2]  # newest change first
    assert "Aucune candidature certifiée pour le moment." in page
    other = T(login("utilisateur_etablissement_b").get("/"))
    assert "PETIT Jean" not in other


def test_list_icons(app, ready, login):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    page = T(login("utilisateur_etablissement_a").get("/evaluations/"))
    for url in (f"/candidature/{c.id}", f"/candidature/{c.id}/modifier",
                f"/candidature/{c.id}/supprimer"):
        assert url in page
    assert "Supprimer définitivement ce dossier ?" in page
    page = T(login("superviseur_reseau_a").get("/evaluations/"))
    assert f"/candidature/{c.id}/supprimer" not in page  # read-only role
