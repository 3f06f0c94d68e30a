"""Deletions (issue 12, item 2): nothing is deleted under the rows that depend on it.

Every delete route of the platform — the bin of the management lists (réseau, organisme,
établissement, actualité), the dossier's bin, a document's bin, FAB's user screen, and the
API's DELETE endpoints — either refuses in French while dependants exist (row and dependants
intact, no 500), or deletes what the row truly owns with it. A bin is shown only where the
service would delete. The database refuses too (foreign keys ON DELETE RESTRICT, enforced
on SQLite as on PostgreSQL), and the migration that set them up goes down and up again."""
from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (Actualite, AuditLog, Etablissement, Habilitation, Organisme,
                        Rattachement, Reseau, Utilisateur)
from app.models.candidature import Candidat, Candidature, HistoriqueStatut
from app.models.evaluation import (Document, Evaluation, Formation, ResultatEvaluation,
                                   formation_sous_domaine)
from app.models.jury import Certificat
from app.services import (accounts, actualites, candidatures, certification, documents,
                          evaluations, rattachements, structure)
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_evaluations import PDF
from tests.integration.test_jury import en_session
from tests.world import PASSWORD, siren, siret, user

CP = "certif_pro_a"
ADMIN_RESEAU = "admin_reseau_a"
OF = "utilisateur_etablissement_a"
BEFORE_0009 = "3314529532b2"


def count(model, *where):
    query = select(func.count()).select_from(model)
    return db.session.execute(query.where(*where) if where else query).scalar_one()


def has_bin(page: str, view: str, pk: int) -> bool:
    return re.search(rf"/{view}/delete/{pk}(?!\d)", page) is not None


def new_etablissement(world, nic: int, org="org_a1", seed=11111111) -> Etablissement:
    return structure.create_etablissement(
        {"nom": f"SITE {nic}", "siret": siret(siren(seed), nic), "region": "IDF",
         "organisme_id": world.ids[org]}, by=None)


def certified(world) -> Candidature:
    """A dossier of etab_a1 certified by the IDF jury (with its certificate)."""
    _session, (c,) = en_session(world)
    certification.decider(c, "certifiee", "", user("jury_a"))
    assert certification.certificat_de(c) is not None
    return c


def technical_admin(app):
    sm = app.appbuilder.sm
    return sm.add_user("technique", "Admin", "Technique", "technique@test.fr",
                       sm.find_role("Admin"), password=PASSWORD)


# --- établissement ---------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_etablissement_with_dossiers_is_kept_screen_and_api(app, world, login, api_token):
    """The issue's case: deleting an établissement that holds dossiers (one certified)."""
    habiliter(world, "etab_a1")
    certifie = certified(world)
    for i in range(2):
        candidatures.creer(dossier(world, nom_naissance=f"Autre{chr(65 + i)}"), user(OF), True)
    etab = world.ids["etab_a1"]
    libre = new_etablissement(world, 9).id
    dossiers = {c.id: c.etablissement_id for c in db.session.scalars(select(Candidature))}
    assert len(dossiers) == 3

    cp = login(CP)
    page = T(cp.get("/etablissementview/list/"))
    assert not has_bin(page, "etablissementview", etab)
    assert has_bin(page, "etablissementview", libre)
    page = T(cp.post(f"/etablissementview/delete/{etab}", follow_redirects=True))
    assert ("Cet établissement gère 3 dossiers : rattachez-les à un autre établissement."
            in page)
    assert "Pour qu'il ne serve plus, rendez-le inactif (Actif : NON)." in page
    response = app.test_client().delete(f"/api/v1/etablissement/{etab}", headers=api_token(CP))
    assert response.status_code == 400
    assert "Cet établissement gère 3 dossiers" in response.json["message"]
    assert "habilitation (demandes comprises), qui reste dans son historique" in \
        response.json["message"]

    # Administrateur réseau: no right to delete an établissement (Certif Pro's), no bin
    admin = login(ADMIN_RESEAU)
    assert not has_bin(T(admin.get("/etablissementview/list/")), "etablissementview", libre)
    assert admin.post(f"/etablissementview/delete/{etab}").status_code in (302, 403)
    response = app.test_client().delete(f"/api/v1/etablissement/{etab}",
                                        headers=api_token(ADMIN_RESEAU))
    assert response.status_code == 403
    assert response.json["message"] == "Votre rôle ne permet pas cette action."

    db.session.expire_all()
    assert db.session.get(Etablissement, etab) is not None
    assert {c.id: c.etablissement_id for c in db.session.scalars(select(Candidature))} == \
        dossiers
    assert certification.certificat_de(db.session.get(Candidature, certifie.id)) is not None
    page = T(cp.get(f"/candidature/{certifie.id}"))
    assert "ETAB_A1" in page and "Certifiée" in page


@pytest.mark.parametrize("dependant", ["utilisateur", "habilitation", "rattachement"])
def test_etablissement_refused_for_each_dependant(app, world, login, api_token, dependant):
    etab = new_etablissement(world, 8)
    if dependant == "utilisateur":
        accounts.create_user({"username": "site8", "first_name": "S", "last_name": "Huit",
                              "email": "site8@test.fr", "role": "utilisateur_etablissement",
                              "etablissement_id": etab.id}, by=None, password=PASSWORD)
        expected = "Cet établissement a 1 utilisateur : rattachez-le à un autre établissement."
    elif dependant == "habilitation":
        from app.services import habilitations

        habilitations.demander({"etablissement_id": etab.id}, None)
        expected = ("Cet établissement a 1 habilitation (demandes comprises), qui reste dans "
                    "son historique.")
    else:  # a dossier that left this établissement: the request stays in its history
        habiliter(world, "etab_a1")
        c = candidatures.creer(dossier(world), user(OF))
        c.etablissement_id = etab.id
        db.session.commit()
        demande = rattachements.demander(c.id, {"etablissement_cible_id": world.ids["etab_a1"],
                                                "motif": "demenagement", "motif_texte": "x"},
                                         user(ADMIN_RESEAU))
        rattachements.decider(demande, True, "", user(CP))
        assert count(Candidature, Candidature.etablissement_id == etab.id) == 0
        expected = ("Cet établissement figure dans 1 demande de rattachement, qui reste dans "
                    "l'historique du dossier.")
    cp = login(CP)
    assert not has_bin(T(cp.get("/etablissementview/list/")), "etablissementview", etab.id)
    assert expected in T(cp.post(f"/etablissementview/delete/{etab.id}",
                                 follow_redirects=True))
    response = app.test_client().delete(f"/api/v1/etablissement/{etab.id}",
                                        headers=api_token(CP))
    assert response.status_code == 400 and expected in response.json["message"]
    db.session.expire_all()
    assert db.session.get(Etablissement, etab.id) is not None


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_etablissement_without_dependants_is_deleted(app, world, login, api_token):
    first, second = new_etablissement(world, 7).id, new_etablissement(world, 6).id
    cp = login(CP)
    page = T(cp.post(f"/etablissementview/delete/{first}", follow_redirects=True))
    assert "Enregistrement supprimé." in page
    response = app.test_client().delete(f"/api/v1/etablissement/{second}",
                                        headers=api_token(CP))
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Etablissement, first) is None
    assert db.session.get(Etablissement, second) is None
    assert count(AuditLog, AuditLog.action == "supprimer",
                 AuditLog.object_type == "Etablissement") == 2


# --- organisme, réseau -------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_organisme_kept_while_it_has_etablissements_or_users(app, world, login, api_token):
    by = user(CP)
    with_users = structure.create_organisme({"raison_sociale": "OF USERS", "siren": siren(44444444),
                                             "reseau_id": world.ids["reseau_a"]}, by).id
    empty = structure.create_organisme({"raison_sociale": "OF VIDE", "siren": siren(55555555),
                                        "reseau_id": world.ids["reseau_a"]}, by).id
    cp = login(CP)
    page = T(cp.get("/organismeview/list/"))
    assert not has_bin(page, "organismeview", world.ids["org_a1"])
    # org_a2's only établissement and only user are none: its établissement blocks it
    assert not has_bin(page, "organismeview", world.ids["org_a2"])
    assert has_bin(page, "organismeview", with_users) and has_bin(page, "organismeview", empty)
    accounts.create_user({"username": "of_users", "first_name": "O", "last_name": "F",
                          "email": "of_users@test.fr", "role": "admin_organisme",
                          "organisme_id": with_users}, by=None, password=PASSWORD)
    assert not has_bin(T(cp.get("/organismeview/list/")), "organismeview", with_users)

    page = T(cp.post(f"/organismeview/delete/{world.ids['org_a1']}", follow_redirects=True))
    assert "Cet organisme a 2 établissements : supprimez-les d'abord." in page
    assert "Cet organisme a 2 utilisateurs : rattachez-les à un autre organisme." in page
    response = app.test_client().delete(f"/api/v1/organisme/{with_users}",
                                        headers=api_token(CP))
    assert response.status_code == 400
    assert response.json["message"] == (
        "Cet organisme a 1 utilisateur : rattachez-le à un autre organisme. "
        "Pour qu'il ne serve plus, rendez-le inactif (Actif : NON).")
    db.session.expire_all()
    assert db.session.get(Organisme, world.ids["org_a1"]) is not None
    assert db.session.get(Organisme, with_users) is not None
    assert user("of_users").organisme_id == with_users
    assert count(Etablissement, Etablissement.organisme_id == world.ids["org_a1"]) == 2

    assert app.test_client().delete(f"/api/v1/organisme/{empty}",
                                    headers=api_token(CP)).status_code == 200
    db.session.expire_all()
    assert db.session.get(Organisme, empty) is None
    # Administrateur réseau creates organismes but deletes none (Certif Pro's right)
    response = app.test_client().delete(f"/api/v1/organisme/{with_users}",
                                        headers=api_token(ADMIN_RESEAU))
    assert response.status_code == 403


def test_reseau_kept_while_it_has_organismes_or_users(app, world, login, api_token):
    """Nobody but the technical Admin may delete a réseau; even then, not a used one (the
    screen answered 500 before: it had no delete rule at all)."""
    technical_admin(app)
    empty = structure.create_reseau({"nom": "Réseau vide"}, None).id
    admin = login("technique")
    page = T(admin.get("/reseauview/list/"))
    assert not has_bin(page, "reseauview", world.ids["reseau_a"])
    assert has_bin(page, "reseauview", empty)
    response = admin.post(f"/reseauview/delete/{world.ids['reseau_a']}", follow_redirects=True)
    assert response.status_code == 200
    page = T(response)
    assert "Ce réseau compte 2 organismes : rattachez-les à un autre réseau." in page
    assert "Ce réseau a 2 utilisateurs : rattachez-les à un autre réseau." in page
    response = app.test_client().delete(f"/api/v1/reseau/{world.ids['reseau_b']}",
                                        headers=api_token("technique"))
    assert response.status_code == 400
    assert response.json["message"].startswith("Ce réseau compte 1 organisme")
    response = app.test_client().delete(f"/api/v1/reseau/{world.ids['reseau_a']}",
                                        headers=api_token(CP))
    assert response.status_code == 403
    assert "Enregistrement supprimé." in T(admin.post(f"/reseauview/delete/{empty}",
                                                      follow_redirects=True))
    db.session.expire_all()
    assert db.session.get(Reseau, empty) is None
    assert count(Reseau) == 2 and count(Organisme) == 3


# --- dossiers and documents ----------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_dossier_bin_deletes_what_the_dossier_owns(app, world, login, api_token):
    """A dossier with no finalized evaluation goes with its history, its draft evaluation
    and results, its documents (files too), its formations and its past requests."""
    habiliter(world, "etab_a1", "etab_a1b")
    c = candidatures.creer(dossier(world), user(OF))
    evaluation = evaluations.creer(c, user(OF))
    sous_domaines = [r.sous_domaine_id for r in evaluation.resultats[:2]]
    piece = documents.enregistrer(c, "piece.pdf", PDF, user(OF))
    matrice = documents.enregistrer(c, "matrice.pdf", PDF, user(OF), nature="matrice",
                                    evaluation_id=evaluation.id)
    evaluations.ajouter_formation(c, {"intitule": "Remise à niveau", "organisme_formateur": "OF",
                                      "formateur": "Paul Form", "date_debut": "2026-01-05",
                                      "date_fin": "2026-01-30", "duree_heures": "35",
                                      "modalite": "presentiel",
                                      "sous_domaines": sous_domaines}, user(OF))
    demande = rattachements.demander(c.id, {"etablissement_cible_id": world.ids["etab_a1b"],
                                            "motif": "demenagement", "motif_texte": "x"},
                                     user(ADMIN_RESEAU))
    rattachements.decider(demande, False, "Pas de déménagement.", user(CP))
    files = [documents.chemin(piece), documents.chemin(matrice)]
    assert all(f.exists() for f in files)
    assert count(ResultatEvaluation) == 28 and count(Formation) == 1

    page = T(login(CP).get("/evaluations/"))
    assert f"/candidature/{c.id}/supprimer" in page
    response = app.test_client().delete(f"/api/v1/candidature/{c.id}",
                                        headers=api_token(ADMIN_RESEAU))
    assert response.status_code == 200, response.json
    db.session.expire_all()
    for model in (Candidature, Candidat, HistoriqueStatut, Evaluation, ResultatEvaluation,
                  Document, Formation, Rattachement, formation_sous_domaine):
        assert count(model) == 0, getattr(model, "name", model)
    assert not any(f.exists() for f in files)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_dossier_asked_for_elsewhere_or_evaluated_is_kept(app, world, login, api_token):
    habiliter(world, "etab_a1", "etab_a1b")
    demande = candidatures.creer(dossier(world), user(OF))
    rattachements.demander(demande.id, {"etablissement_cible_id": world.ids["etab_a1b"],
                                        "motif": "demenagement", "motif_texte": "x"},
                           user(ADMIN_RESEAU))
    certifie = certified(world)
    cp = login(CP)
    page = T(cp.get("/evaluations/"))
    assert f"/candidature/{demande.id}/supprimer" not in page
    assert f"/candidature/{demande.id}/supprimer" not in T(cp.get(f"/candidature/{demande.id}"))
    page = T(cp.post(f"/candidature/{demande.id}/supprimer", follow_redirects=True))
    assert ("Un autre établissement a demandé le rattachement de ce dossier : il ne peut pas "
            "être supprimé tant que Certif Pro n'a pas répondu.") in page
    for who in (CP, ADMIN_RESEAU):
        response = app.test_client().delete(f"/api/v1/candidature/{certifie.id}",
                                            headers=api_token(who))
        assert response.status_code == 400
        assert "il ne peut plus être supprimé" in response.json["message"]
    db.session.expire_all()
    assert count(Candidature) == 2 and count(Rattachement) == 1
    assert count(Certificat) == 1


def test_document_api_delete_is_the_dossier_page_bin(app, world, api_token):
    habiliter(world, "etab_a1", "etab_b1")
    c = candidatures.creer(dossier(world), user(OF))
    piece = documents.enregistrer(c, "piece.pdf", PDF, user(OF))
    client, headers = app.test_client(), api_token(OF)
    response = client.delete(f"/api/v1/document/{piece.id}", headers=headers)
    assert response.status_code == 200
    # once deleted, it is gone for the API as for the screens (not read, not deleted twice)
    response = client.delete(f"/api/v1/document/{piece.id}", headers=headers)
    assert response.status_code == 404
    assert client.get(f"/api/v1/document/{piece.id}", headers=headers).status_code == 404
    db.session.expire_all()
    kept = db.session.get(Document, piece.id)
    assert kept is not None and kept.supprime_le is not None  # the history keeps it
    assert "Document supprimé : piece.pdf" in c.historique[-1].motif
    other = api_token("utilisateur_etablissement_b")
    assert client.delete(f"/api/v1/document/{piece.id}", headers=other).status_code == 404


# --- actualités, accounts --------------------------------------------------------------------

def test_actualite_bin_and_accounts_never_deleted(app, world, login, api_token):
    news = [actualites.create({"titre": f"Info {i}", "texte": "Texte"}, user(CP)).id
            for i in range(2)]
    cp = login(CP)
    page = T(cp.get("/actualiteview/list/"))
    assert all(has_bin(page, "actualiteview", pk) for pk in news)
    assert "Enregistrement supprimé." in T(cp.post(f"/actualiteview/delete/{news[0]}",
                                                   follow_redirects=True))
    assert app.test_client().delete(f"/api/v1/actualite/{news[1]}",
                                    headers=api_token(CP)).status_code == 200
    assert count(Actualite) == 0

    technical_admin(app)
    admin = login("technique")
    target = world.ids["utilisateur_etablissement_a"]
    assert not has_bin(T(admin.get("/users/list/")), "users", target)
    page = T(admin.post(f"/users/delete/{target}", follow_redirects=True))
    assert "Un compte n'est jamais supprimé" in page
    assert db.session.get(Utilisateur, target) is not None


# --- the database refuses too ------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_database_refuses_to_orphan_rows(app, world, backend):
    habiliter(world, "etab_a1")
    certifie = certified(world)
    etab = world.ids["etab_a1"]
    if backend == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    for statement, params in (
            ("DELETE FROM etablissement WHERE id = :id", {"id": etab}),
            ("DELETE FROM organisme WHERE id = :id", {"id": world.ids["org_a1"]}),
            ("DELETE FROM candidature WHERE id = :id", {"id": certifie.id}),
            ("DELETE FROM candidat WHERE id = :id", {"id": certifie.candidat_id}),
            ("DELETE FROM session_jury WHERE id = :id", {"id": certifie.session_jury_id}),
            ("DELETE FROM referentiel", {})):
        with pytest.raises(IntegrityError):
            db.session.execute(text(statement), params)
            db.session.flush()
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Etablissement, etab) is not None
    assert count(Candidature, Candidature.etablissement_id == etab) == 1
    assert count(Habilitation, Habilitation.etablissement_id == etab) == 1
    # what is truly owned goes with its parent: an evaluation's results, a dossier's history
    brouillon = candidatures.creer(dossier(world, nom_naissance="Brouillon"), user(OF), True)
    evaluation_id = evaluations.creer(brouillon, user(OF)).id
    brouillon_id = brouillon.id
    assert count(ResultatEvaluation, ResultatEvaluation.evaluation_id == evaluation_id) == 28
    db.session.execute(text("DELETE FROM evaluation WHERE id = :id"), {"id": evaluation_id})
    db.session.execute(text("DELETE FROM candidature WHERE id = :id"), {"id": brouillon_id})
    db.session.commit()
    assert count(ResultatEvaluation, ResultatEvaluation.evaluation_id == evaluation_id) == 0
    assert count(HistoriqueStatut, HistoriqueStatut.candidature_id == brouillon_id) == 0


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_migration_goes_down_and_up_keeping_the_data(app, world, backend):
    """0009 rebuilds most tables on SQLite: rows, partial unique indexes and the other
    tables' rows pointing to them survive both ways."""
    habiliter(world, "etab_a1")
    c = candidatures.creer(dossier(world), user(OF))
    evaluations.creer(c, user(OF))
    rows = {m: count(m) for m in (Candidature, HistoriqueStatut, Evaluation, ResultatEvaluation,
                                  Habilitation, Utilisateur)}

    def ondelete(table, column):
        db.session.remove()
        for fk in inspect(db.engine).get_foreign_keys(table):
            if fk["constrained_columns"] == [column]:
                return (fk.get("options") or {}).get("ondelete")
        raise AssertionError(f"no foreign key on {table}.{column}")

    assert ondelete("candidature", "etablissement_id") == "RESTRICT"
    assert ondelete("evaluation", "candidature_id") == "RESTRICT"
    downgrade(revision=BEFORE_0009)
    assert ondelete("candidature", "etablissement_id") is None
    assert ondelete("evaluation", "candidature_id") == "CASCADE"
    upgrade()
    assert ondelete("candidature", "etablissement_id") == "RESTRICT"
    assert ondelete("habilitation", "renouvellement_de_id") == "RESTRICT"
    assert inspect(db.engine).get_foreign_keys("habilitation")  # self-reference kept
    assert {m: count(m) for m in rows} == rows
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("candidature")}
    where = "sqlite_where" if backend == "sqlite" else "postgresql_where"
    assert where in indexes["uq_candidature_vivante"]["dialect_options"]
    if backend == "sqlite":
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(IntegrityError):
        db.session.execute(text("DELETE FROM etablissement WHERE id = :id"),
                           {"id": world.ids["etab_a1"]})
        db.session.flush()
    db.session.rollback()
