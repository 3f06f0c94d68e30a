"""Gates of a dossier (issue 12, items 5–7), on the screens and the API alike:
- « Socle contextualisé » only when the dossier's établissement holds a valid habilitation of
  that branche (it sends the dossier to the branche's CPNE jury);
- evaluations and formations only when the dossier's OWN établissement is habilitated (not
  merely some établissement of the user);
- documents only while the dossier is modifiable by the user, or as the answer to the jury's
  complement request."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Branche, Habilitation
from app.models.candidature import Candidature
from app.models.evaluation import Document, Evaluation, Formation
from app.services import candidatures, certification, documents, evaluations, habilitations
from app.services.errors import ForbiddenError, RuleError
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_certification import a_envoyer, session
from tests.integration.test_evaluations import matrice_deposee, remplir
from tests.world import user

TODAY = dt.date.today()
OF = "utilisateur_etablissement_a"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SALARIE = {"statut_inscription": "salarie", "socle_contextualise": True}


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def branche() -> Branche:
    return db.session.execute(select(Branche)).scalar_one()


def habiliter_branche(world, key, debut=TODAY - dt.timedelta(days=1),
                      fin=TODAY + dt.timedelta(days=365)):
    hab = habilitations.demander({"etablissement_id": world.ids[key], "portee": "branche",
                                  "branche_id": branche().id}, None)
    habilitations.decider(hab, {"decision": "validee", "date_debut": debut, "date_fin": fin},
                          None)


def expirer(world, key):
    """The établissement's habilitations ended yesterday."""
    for hab in db.session.scalars(select(Habilitation).where(
            Habilitation.etablissement_id == world.ids[key])):
        hab.date_debut, hab.date_fin = TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=1)
    db.session.commit()


def drop_evaluation(evaluation_id):
    """Remove a draft evaluation and its files' rows (the foreign keys restrict deletion)."""
    from sqlalchemy import delete

    from app.models.evaluation import Document

    db.session.execute(delete(Document).where(Document.evaluation_id == evaluation_id))
    db.session.delete(db.session.get(Evaluation, evaluation_id))


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


# --- item 5: socle contextualisé --------------------------------------------------------------

def test_socle_refused_without_a_branche_habilitation_of_the_etablissement(app, ready):
    data = dossier(ready, branche_id=branche().id, **SALARIE)
    with pytest.raises(RuleError, match="Le socle contextualisé « Propreté » n'est possible") \
            as refused:
        candidatures.creer(data, user(OF))
    assert refused.value.field == "socle_contextualise" and "ETAB_A1" in refused.value.message
    db.session.rollback()
    assert count(Candidature) == 0
    # the branche délégataire alone stays possible (guide §14)
    c = candidatures.creer(dossier(ready, branche_id=branche().id,
                                   statut_inscription="salarie"), user(OF))
    assert c.branche_id == branche().id and not c.socle_contextualise


def test_socle_accepted_with_a_valid_branche_habilitation_only(app, ready):
    # an ended branche habilitation does not count
    habiliter_branche(ready, "etab_a1", debut=TODAY - dt.timedelta(days=400),
                      fin=TODAY - dt.timedelta(days=1))
    with pytest.raises(RuleError, match="Propreté"):
        candidatures.creer(dossier(ready, branche_id=branche().id, **SALARIE), user(OF))
    db.session.rollback()
    # another établissement's branche habilitation does not count either
    habiliter_branche(ready, "etab_a1b")
    with pytest.raises(RuleError, match="ETAB_A1 n'en a pas"):
        candidatures.creer(dossier(ready, branche_id=branche().id, **SALARIE), user(OF))
    db.session.rollback()
    habiliter_branche(ready, "etab_a1")
    c = candidatures.creer(dossier(ready, branche_id=branche().id, **SALARIE), user(OF))
    assert c.socle_contextualise
    candidatures.transition(c, "a_envoyer", None)
    db.session.commit()
    # once the branche habilitation has ended, the dossier is not routed to the CPNE jury
    for hab in db.session.scalars(select(Habilitation).where(Habilitation.portee == "branche")):
        hab.date_fin = TODAY - dt.timedelta(days=1)
    db.session.commit()
    c.candidat.email, c.candidat.adresse = "e@x.fr", "1 rue"
    c.candidat.code_postal, c.candidat.ville = "75011", "Paris"
    db.session.commit()
    with pytest.raises(RuleError, match="Le socle contextualisé « Propreté »"):
        certification.envoyer_en_certification(c, user(OF))
    db.session.rollback()
    assert db.session.get(Candidature, c.id).statut == "a_envoyer"


def test_socle_refused_when_editing_screen_and_service(app, ready, login):
    c = candidatures.creer(dossier(ready, statut_inscription="salarie"), user(OF))
    with pytest.raises(RuleError, match="Propreté"):
        candidatures.mise_a_jour(c, {"branche_id": branche().id, "socle_contextualise": True},
                                 user(OF))
    db.session.rollback()
    client = login("admin_organisme_a")
    form = {**dossier(ready, statut_inscription="salarie"), "branche_id": str(branche().id),
            "socle_contextualise": "y", "civilite": "Mme"}
    page = T(client.post(f"/candidature/{c.id}/modifier", data=form))
    assert "Le socle contextualisé « Propreté » n'est possible que si l'établissement" in page
    db.session.expire_all()
    assert not db.session.get(Candidature, c.id).socle_contextualise


def test_socle_offered_on_the_form_only_where_possible(app, ready, login):
    client = login(OF)
    page = T(client.get("/candidature/nouvelle"))
    assert 'name="socle_contextualise"' not in page
    assert "Socle contextualisé : réservé aux établissements disposant d'une habilitation de " \
           "branche valide, et aucun de vos établissements n'en a." in page
    habiliter_branche(ready, "etab_a1")
    page = T(client.get("/candidature/nouvelle"))
    assert 'name="socle_contextualise"' in page
    assert "Possible uniquement pour un établissement habilité pour la branche : ETAB_A1 " \
           "(Propreté)." in page
    c = candidatures.creer(dossier(ready, etab="etab_a1b", statut_inscription="salarie"),
                           user("utilisateur_organisme_a"))
    page = T(login("utilisateur_organisme_a").get(f"/candidature/{c.id}/modifier"))
    assert 'name="socle_contextualise"' not in page  # ETAB_A1B holds no branche habilitation


def test_socle_refused_by_the_api(app, ready, api_token):
    response = app.test_client().post("/api/v1/candidature/", headers=api_token(OF), json={
        **dossier(ready, branche_id=branche().id, **SALARIE)})
    assert response.status_code == 400
    assert "Le socle contextualisé « Propreté » n'est possible" in response.json["message"]
    assert response.json["field"] == "socle_contextualise"
    assert count(Candidature) == 0


# --- item 6: the dossier's own établissement is the gate ----------------------------------------

@pytest.fixture
def sans_habilitation(app, ready):
    """A dossier of ETAB_A1 with a draft evaluation, then ETAB_A1's habilitation ends; the
    organisme's other établissement (ETAB_A1B) stays habilitated, so the tab stays open."""
    c = candidatures.creer(dossier(ready), user(OF))
    ev = evaluations.creer(c, user(OF))
    remplir(ev)
    matrice_deposee(ev)
    expirer(ready, "etab_a1")
    assert habilitations.peut_evaluer(user("utilisateur_organisme_a"))
    return c, ev


def test_no_evaluation_nor_formation_on_a_dossier_of_an_unhabilitated_etablissement(
        app, sans_habilitation):
    c, ev = sans_habilitation
    who = user("utilisateur_organisme_a")
    for action in (lambda: evaluations.finaliser(ev, who),
                   lambda: evaluations.enregistrer(ev, {"version": ev.version,
                                                        "evaluateur": "X"}, who),
                   lambda: evaluations.ajouter_formation(c, {"intitule": "Calcul"}, who)):
        with pytest.raises(ForbiddenError, match="L'établissement ETAB_A1, qui gère ce dossier, "
                                                 "n'a pas d'habilitation CléA valide"):
            action()
        db.session.rollback()
    assert db.session.get(Evaluation, ev.id).statut == "en_cours"
    drop_evaluation(ev.id)
    db.session.commit()
    with pytest.raises(ForbiddenError, match="ETAB_A1"):
        evaluations.creer(c, who)
    db.session.rollback()
    assert not evaluations.peut_ajouter(c)


@pytest.mark.parametrize("who", ["utilisateur_organisme_a", "admin_organisme_a",
                                 "admin_reseau_a", "certif_pro_a"])
def test_api_refuses_evaluations_and_formations(app, sans_habilitation, api_token, who):
    c, ev = sans_habilitation
    client, headers = app.test_client(), api_token(who)
    message = "L'établissement ETAB_A1, qui gère ce dossier, n'a pas d'habilitation CléA valide"
    saved = client.put(f"/api/v1/evaluation/{ev.id}", headers=headers,
                       json={"version": ev.version, "evaluateur": "Autre"})
    assert saved.status_code == 403 and message in saved.json["message"]
    finalized = client.post(f"/api/v1/evaluation/{ev.id}/finaliser", headers=headers)
    assert finalized.status_code == 403 and message in finalized.json["message"]
    formation = client.post("/api/v1/formation/", headers=headers, json={
        "candidature_id": c.id, "intitule": "Calcul", "organisme_formateur": "OF",
        "formateur": "Paul Form", "date_debut": TODAY.isoformat(),
        "date_fin": TODAY.isoformat(), "duree_heures": 7, "modalite": "presentiel"})
    assert formation.status_code == 403 and message in formation.json["message"]
    db.session.expire_all()
    assert db.session.get(Evaluation, ev.id).statut == "en_cours"
    assert db.session.get(Evaluation, ev.id).evaluateur == "Jeanne Eval"
    assert count(Formation) == 0
    drop_evaluation(ev.id)
    db.session.commit()
    created = client.post("/api/v1/evaluation/", headers=headers, json={"candidature_id": c.id})
    assert created.status_code == 403 and message in created.json["message"]
    assert count(Evaluation) == 0


def test_screens_hide_the_actions_and_say_why(app, sans_habilitation, login):
    c, ev = sans_habilitation
    client = login("utilisateur_organisme_a")
    message = "L'établissement ETAB_A1, qui gère ce dossier, n'a pas d'habilitation CléA valide"
    grille = T(client.get(f"/evaluation/{ev.id}"))
    assert message in grille
    assert "Finaliser l'évaluation</button>" not in grille
    assert "Enregistrer et reprendre plus tard" not in grille
    refused = T(client.post(f"/evaluation/{ev.id}/finaliser", follow_redirects=True))
    assert message in refused
    assert db.session.get(Evaluation, ev.id).statut == "en_cours"
    formations = T(client.get(f"/formations/dossier/{c.id}"))
    assert message in formations and "Enregistrer la formation" not in formations
    posted = client.post(f"/formations/dossier/{c.id}/ajouter", data={
        "intitule": "Calcul", "organisme_formateur": "OF", "formateur": "Paul Form",
        "date_debut": TODAY.isoformat(), "date_fin": TODAY.isoformat(), "duree_heures": "7",
        "modalite": "presentiel"})
    assert message in T(posted) and count(Formation) == 0
    drop_evaluation(ev.id)
    db.session.commit()
    fiche = T(client.get(f"/candidature/{c.id}"))
    assert message in fiche and "Ajouter une évaluation</button>" not in fiche
    added = T(client.post(f"/evaluation/ajouter/{c.id}", follow_redirects=True))
    assert message in added and count(Evaluation) == 0


def test_a_rattached_dossier_follows_its_new_etablissement(app, ready, login):
    """After a rattachement to a non-habilitated établissement of the same organisme."""
    c = candidatures.creer(dossier(ready, etab="etab_a1b"), user("utilisateur_organisme_a"))
    c.etablissement_id = ready.ids["etab_a2"]  # as Certif Pro's decision moves it
    db.session.commit()
    response = login("admin_reseau_a").post(f"/evaluation/ajouter/{c.id}",
                                            follow_redirects=True)
    assert "L'établissement ETAB_A2, qui gère ce dossier" in T(response)
    assert count(Evaluation) == 0


# --- item 7: documents once sent ---------------------------------------------------------------

def upload(client, headers, c):
    return client.post("/api/v1/document/", headers=headers, data={
        "candidature_id": str(c.id), "nature": "piece",
        "fichier": (io.BytesIO(PDF), "piece.pdf")}, content_type="multipart/form-data")


@pytest.mark.parametrize("who,status", [
    ("utilisateur_etablissement_a", 403), ("admin_etablissement_a", 403),
    ("utilisateur_organisme_a", 403), ("admin_organisme_a", 403),
    ("admin_reseau_a", 201), ("certif_pro_a", 201)])
def test_api_refuses_documents_once_sent_below_admin_reseau(app, ready, api_token, who, status):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    assert c.statut == "attente_jury"
    response = upload(app.test_client(), api_token(who), c)
    assert response.status_code == status, response.json
    if status == 403:
        assert "Ce dossier a été envoyé en certification : à votre niveau, ses documents ne " \
               "changent plus" in response.json["message"]
        assert count(Document) == 0
    else:
        assert count(Document) == 1


def test_documents_accepted_as_the_answer_to_a_complement_request(app, ready, api_token, login):
    session(ready)
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    certification.decider(c, "complement", "Joindre l'attestation du module 4.", user("jury_a"))
    assert c.statut == "attente_complement"
    assert upload(app.test_client(), api_token(OF), c).status_code == 201
    client = login(OF)
    page = T(client.get(f"/candidature/{c.id}"))
    assert 'id="fichier-dossier"' in page
    certification.completer(c, "Attestation du module 4 déposée.", user(OF))
    assert c.statut == "completee"
    refused = upload(app.test_client(), api_token(OF), c)
    assert refused.status_code == 403 and count(Document) == 1


def test_screens_hide_the_upload_once_sent(app, ready, login):
    c = a_envoyer(ready)
    documents.enregistrer(c, "avant.pdf", PDF, user(OF))
    certification.envoyer_en_certification(c, user(OF))
    client = login(OF)
    page = T(client.get(f"/candidature/{c.id}"))
    assert 'id="fichier-dossier"' not in page
    assert "Ce dossier a été envoyé en certification : à votre niveau, ses documents ne " \
           "changent plus, sauf pour répondre à une demande de compléments du jury." in page
    assert "Supprimer le document « avant.pdf »" not in page
    posted = client.post(f"/candidature/{c.id}/documents", data={
        "fichier": (io.BytesIO(PDF), "apres.pdf")}, content_type="multipart/form-data",
        follow_redirects=True)
    assert "ses documents ne changent plus" in T(posted)
    document = db.session.scalars(select(Document)).one()
    deleted = client.post(f"/candidature/document/{document.id}/supprimer",
                          follow_redirects=True)
    assert "ses documents ne changent plus" in T(deleted)
    db.session.expire_all()
    assert count(Document) == 1 and db.session.get(Document, document.id).supprime_le is None
    # Administrateur réseau still may (DESIGN §5)
    page = T(login("admin_reseau_a").get(f"/candidature/{c.id}"))
    assert 'id="fichier-dossier"' in page
