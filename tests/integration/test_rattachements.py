"""Demandes de rattachement: the key icon's request, Certif Pro's decision, the dossier and
its history moving, refusals at request and decision time, notifications."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.models.candidature import Candidature
from app.services import candidatures, rattachements
from app.services.errors import ConflictError, RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def lien_demande(page: str, pk: int) -> str:
    """The key icon's link of a search hit outside the perimeter (it carries its handle)."""
    found = re.search(rf'/rattachements/demander/{pk}\?jeton=[^"]+', page)
    assert found, "no rattachement link for this dossier"
    return found.group(0)


@pytest.fixture
def dossier_b(app, world):
    habiliter(world, "etab_a1", "etab_b1")
    return candidatures.creer(dossier(world, etab="etab_b1"), user("utilisateur_etablissement_b"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_request_accepted_moves_the_dossier(app, world, dossier_b, login):
    client = login("utilisateur_etablissement_a")
    page = T(client.get("/recherche/?q=dupre"))
    lien = lien_demande(page, dossier_b.id)
    # outside the perimeter, the id alone reaches nothing: only the search hit's link
    assert client.get(f"/rattachements/demander/{dossier_b.id}").status_code == 404
    assert client.get(f"/rattachements/demander/{dossier_b.id}?jeton=faux").status_code == 404
    form = T(client.get(lien))
    assert "DUPRÉ Élodie Marie" in form and "ETAB_B1" in form
    assert "Lyon" not in form  # minimal identity only (no birth place, no contact)
    response = client.post(lien, data={
        "etablissement_cible_id": world.ids["etab_a1"], "motif": "demenagement",
        "motif_texte": "La candidate a déménagé à Paris."}, follow_redirects=True)
    assert "Votre demande de rattachement est envoyée" in T(response)
    demande = db.session.execute(select(rattachements.Rattachement)).scalar_one()
    assert db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user("certif_pro_a").id).order_by(Notification.id)
    ).all()[-1].startswith("Demande de rattachement")
    assert "Mes demandes de rattachement" in T(client.get("/"))
    assert "DUPRÉ Élodie Marie" in T(client.get("/rattachements/"))
    cp = login("certif_pro_a")
    response = cp.post(f"/rattachements/{demande.id}/decider", data={"decision": "accepter"},
                       follow_redirects=True)
    assert "le dossier est transféré" in T(response)
    db.session.expire_all()
    moved = db.session.get(Candidature, dossier_b.id)
    assert moved.etablissement_id == world.ids["etab_a1"]
    assert "Rattachement : dossier transféré de ETAB_B1 à ETAB_A1" in moved.historique[-1].motif
    assert client.get(f"/candidature/{moved.id}").status_code == 200
    assert login("utilisateur_etablissement_b").get(f"/candidature/{moved.id}").status_code == 404
    titles = db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user("utilisateur_etablissement_a").id)).all()
    assert "Rattachement accepté : DUPRÉ Élodie Marie" in titles


def test_refusal_needs_a_motive_and_notifies(app, world, dossier_b):
    demande = rattachements.demander(dossier_b.id, {
        "etablissement_cible_id": world.ids["etab_a1"], "motif": "autre",
        "motif_texte": "x"}, user("admin_etablissement_a"))
    with pytest.raises(RuleError, match="motif du refus"):
        rattachements.decider(demande, False, "", user("certif_pro_a"))
    db.session.rollback()
    rattachements.decider(demande, False, "Aucun justificatif", user("certif_pro_a"))
    assert demande.statut == "refusee"
    assert db.session.get(Candidature, dossier_b.id).etablissement_id == world.ids["etab_b1"]
    with pytest.raises(ConflictError):
        rattachements.decider(demande, True, "", user("certif_pro_a"))


def test_refused_at_request_and_at_decision_time(app, world, dossier_b):
    data = {"etablissement_cible_id": world.ids["etab_a1"], "motif": "fermeture",
            "motif_texte": "Fermeture du site"}
    demande = rattachements.demander(dossier_b.id, data, user("admin_etablissement_a"))
    with pytest.raises(ConflictError, match="déjà en attente"):
        rattachements.demander(dossier_b.id, data, user("admin_organisme_a"))
    db.session.rollback()
    # Meanwhile the dossier goes to the jury: accepting is refused.
    candidatures.transition(dossier_b, "a_envoyer", None)
    candidatures.transition(dossier_b, "attente_jury", None)
    db.session.commit()
    with pytest.raises(RuleError, match="ne peut pas être rattaché"):
        rattachements.decider(demande, True, "", user("certif_pro_a"))
    db.session.rollback()
    assert db.session.get(Candidature, dossier_b.id).etablissement_id == world.ids["etab_b1"]
    rattachements.decider(demande, False, "Dossier envoyé au jury", user("certif_pro_a"))
    with pytest.raises(RuleError, match="En attente de jury"):
        rattachements.demander(dossier_b.id, data, user("admin_etablissement_a"))


def test_only_certif_pro_decides(app, world, dossier_b, login):
    demande = rattachements.demander(dossier_b.id, {
        "etablissement_cible_id": world.ids["etab_a1"], "motif": "autre", "motif_texte": "x"},
        user("admin_etablissement_a"))
    page = T(login("admin_etablissement_a").get(f"/rattachements/{demande.id}"))
    assert "Accepter et transférer" not in page
    assert login("admin_reseau_a").post(f"/rattachements/{demande.id}/decider",
                                        data={"decision": "accepter"}).status_code == 403
    assert "Accepter et transférer" in T(login("certif_pro_a").get(f"/rattachements/{demande.id}"))
    # The dossier's current établissement sees the request made about it.
    assert login("admin_reseau_b").get(f"/rattachements/{demande.id}").status_code == 200
    assert login("admin_organisme_b").get(f"/rattachements/{demande.id}").status_code == 200


def test_api_rattachement(app, world, dossier_b, api_token):
    client = app.test_client()
    headers = api_token("admin_etablissement_a")
    demande = {"etablissement_cible_id": world.ids["etab_a1"], "motif": "choix_beneficiaire",
               "motif_texte": "Souhait de la candidate"}
    # another réseau's dossier: by its id, 404 (ids are not probed); by the search hit's handle
    response = client.post("/api/v1/rattachement/", headers=headers, json={
        **demande, "candidature_id": dossier_b.id})
    assert response.status_code == 404
    (hit,) = [h for h in client.get("/api/v1/recherche/?q=dupre", headers=headers).json[
        "result"] if h["jeton_rattachement"]]
    response = client.post("/api/v1/rattachement/", headers=headers, json={
        **demande, "jeton": hit["jeton_rattachement"]})
    assert response.status_code == 201, response.json
    assert response.json["result"]["candidature_id"] == dossier_b.id
    pk = response.json["id"]
    assert client.post(f"/api/v1/rattachement/{pk}/decision", json={"decision": "acceptee"},
                       headers=headers).status_code == 403
    response = client.post(f"/api/v1/rattachement/{pk}/decision", json={"decision": "acceptee"},
                           headers=api_token("certif_pro_a"))
    assert response.status_code == 200 and response.json["result"]["statut"] == "acceptee"
    again = client.post(f"/api/v1/rattachement/{pk}/decision", json={"decision": "refusee",
                                                                     "motif_refus": "x"},
                        headers=api_token("certif_pro_a"))
    assert again.status_code == 409
