"""Shipments of paper certificates (issue 16): a tracking number per letter, a returned letter
recorded with its reason (the dossier's managers told), re-shipped once with a motive to the
candidate's current address; through the services, the screens and the API."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.models.audit import AuditLog
from app.models.jury import EnvoiCertificat, LotEnvoi
from app.services import certification, envois
from app.services.errors import ConflictError, ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.integration.test_jury import OF, en_session
from tests.integration.test_candidatures import habiliter
from tests.world import user

TODAY = dt.date.today()
CP = "certif_pro_a"


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


def T(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def certifies(world, n=1):
    _, dossiers = en_session(world, n=n, certificat_papier=True)
    for d in dossiers:
        certification.decider(d, "certifiee", "", user("jury_a"))
    return [certification.certificat_de(d) for d in dossiers]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_tracking_return_and_reshipping_through_the_screens(app, ready, login):
    (cert,) = certifies(ready)
    cp = login(CP)
    refus = T(cp.post("/envois/", data={"certificat": [str(cert.id)],
                                        "date_envoi": TODAY.isoformat(),
                                        f"suivi_{cert.id}": "<script>"}, follow_redirects=True))
    assert "Numéro de suivi invalide" in refus
    assert db.session.scalars(select(EnvoiCertificat)).first() is None  # nothing half-written
    cp.post("/envois/", data={"certificat": [str(cert.id)], "date_envoi": TODAY.isoformat(),
                              f"suivi_{cert.id}": " 1A 234 567 8901 "})
    envoi = db.session.scalars(select(EnvoiCertificat)).one()
    assert envoi.numero_suivi == "1A 234 567 8901"
    lot = T(cp.get(f"/envois/lot/{envoi.lot_id}"))
    assert cert.numero in lot and "1A 234 567 8901" in lot and "Signaler un retour" in lot
    assert "Envoyé" in lot
    # a return needs its reason, « Autre » its detail, a date not before the posting
    for data, message in (({}, "Choisissez le motif du retour."),
                          ({"motif": "autre"}, "Précisez le motif du retour."),
                          ({"motif": "npai", "date_retour": (TODAY - dt.timedelta(days=3))
                            .isoformat()}, "ne peut pas précéder le"),
                          ({"motif": "npai", "date_retour": (TODAY + dt.timedelta(days=1))
                            .isoformat()}, "ne peut pas être dans le futur")):
        page = T(cp.post(f"/envois/envoi/{envoi.id}/retour", data=data, follow_redirects=True))
        assert message in page, data
    db.session.expire_all()
    assert db.session.get(EnvoiCertificat, envoi.id).retour_le is None
    page = T(cp.post(f"/envois/envoi/{envoi.id}/retour",
                     data={"motif": "npai", "detail": "Destinataire inconnu"},
                     follow_redirects=True))
    assert "Retour enregistré" in page
    assert f"Revenu le {TODAY.strftime('%d/%m/%Y')} : N'habite pas à l'adresse indiquée" in page
    assert "Signaler un retour" not in page
    again = T(cp.post(f"/envois/envoi/{envoi.id}/retour", data={"motif": "npai"},
                      follow_redirects=True))
    assert "Ce retour est déjà enregistré" in again
    # the dossier's managers are told to check the address
    titres = db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user(OF).id)).all()
    assert any(t.startswith("Certificat revenu à Certif Pro") for t in titres)
    liste = T(cp.get("/envois/"))
    assert "1 retour à réexpédier" in liste and "Destinataire inconnu" in liste
    # the OF corrects the address; Certif Pro posts again, with a motive
    candidat = cert.candidature.candidat
    candidat.adresse = "8 avenue Foch"
    db.session.commit()
    court = T(cp.post(f"/envois/envoi/{envoi.id}/reexpedier", data={"motif": "oui"},
                      follow_redirects=True))
    assert "Indiquez le motif de la réexpédition (5 caractères au moins)." in court
    done = T(cp.post(f"/envois/envoi/{envoi.id}/reexpedier", data={
        "motif": "Adresse corrigée par l'organisme.", "numero_suivi": "2B999"},
        follow_redirects=True))
    assert f"Certificat n° {cert.numero} réexpédié le {TODAY.strftime('%d/%m/%Y')}" in done
    assert "Aucun retour à réexpédier." in done
    db.session.expire_all()
    nouveau = db.session.scalars(select(EnvoiCertificat).where(
        EnvoiCertificat.renvoi_de_id == envoi.id)).one()
    assert nouveau.lot_id != envoi.lot_id and "8 avenue Foch" in nouveau.adresse
    assert nouveau.numero_suivi == "2B999"
    assert nouveau.motif_renvoi == "Adresse corrigée par l'organisme."
    twice = T(cp.post(f"/envois/envoi/{envoi.id}/reexpedier", data={
        "motif": "Encore une fois."}, follow_redirects=True))
    assert "Cet envoi a déjà été réexpédié le" in twice
    # the dossier's history reads both letters
    fiche = T(login(OF).get(f"/candidature/{cert.candidature_id}"))
    assert "Historique des envois" in fiche and "2B999" in fiche
    assert f"Revenu le {TODAY.strftime('%d/%m/%Y')}, réexpédié le" in fiche
    assert "Réexpédition : Adresse corrigée par l'organisme." in fiche
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.in_(
        ("signaler_retour_envoi", "reexpedier_envoi")))).all()
    assert sorted(actions) == ["reexpedier_envoi", "signaler_retour_envoi"]


def test_only_certif_pro_handles_returns(app, ready, login):
    (cert,) = certifies(ready)
    lot = envois.enregistrer_envois([cert.id], TODAY, user(CP))
    envoi = db.session.scalars(select(EnvoiCertificat).where(
        EnvoiCertificat.lot_id == lot.id)).one()
    with pytest.raises(ForbiddenError):
        envois.signaler_retour(envoi, {"motif": "npai"}, user("admin_reseau_a"))
    db.session.rollback()
    with pytest.raises(RuleError, match="Seul un envoi revenu"):
        envois.reexpedier(envoi, {"motif": "Un motif valable."}, user(CP))
    db.session.rollback()
    for who in ("admin_reseau_a", OF, "jury_a"):
        client = login(who)
        assert client.get(f"/envois/lot/{lot.id}").status_code == 403
        assert client.post(f"/envois/envoi/{envoi.id}/retour",
                           data={"motif": "npai"}).status_code == 403
    assert login(CP).get("/envois/lot/99999999").status_code == 404
    assert login(CP).post("/envois/envoi/99999999999999999999/retour").status_code == 404


def test_api_shipments(app, ready, api_token):
    cert1, cert2 = certifies(ready, n=2)
    client = app.test_client()
    headers = api_token(CP)
    created = client.post("/api/v1/envoi/", headers=headers, json={
        "certificats": [cert1.id, cert2.id], "date_envoi": TODAY.isoformat(),
        "suivis": [{"certificat": cert1.id, "numero_suivi": "LA123"}]})
    assert created.status_code == 201, created.json
    liste = client.get("/api/v1/envoi/", headers=headers).json
    assert liste["count"] == 2
    par_cert = {e["certificat_id"]: e for e in liste["result"]}
    assert par_cert[cert1.id]["numero_suivi"] == "LA123"
    assert par_cert[cert2.id]["numero_suivi"] is None
    pk = par_cert[cert1.id]["id"]
    bad = client.post(f"/api/v1/envoi/{pk}/retour", headers=headers, json={"motif": "perdu"})
    assert bad.status_code == 400 and bad.json["field"] == "motif"
    ok = client.post(f"/api/v1/envoi/{pk}/retour", headers=headers,
                     json={"motif": "refuse"})
    assert ok.status_code == 200 and ok.json["retour_motif"] == "refuse"
    assert ok.json["etat"].startswith("Revenu le")
    retours = client.get("/api/v1/envoi/?etat=retour", headers=headers).json
    assert [e["id"] for e in retours["result"]] == [pk]
    assert client.get("/api/v1/envoi/?etat=perdu", headers=headers).status_code == 400
    assert client.get("/api/v1/envoi/?lot=abc", headers=headers).status_code == 400
    renvoi = client.post(f"/api/v1/envoi/{pk}/reexpedier", headers=headers,
                         json={"motif": "Nouvelle adresse.", "numero_suivi": "LA124"})
    assert renvoi.status_code == 201 and renvoi.json["renvoi_de_id"] == pk
    conflit = client.post(f"/api/v1/envoi/{pk}/reexpedier", headers=headers,
                          json={"motif": "Nouvelle adresse."})
    assert conflit.status_code == 409
    assert client.get("/api/v1/envoi/?etat=retour", headers=headers).json["count"] == 0
    assert client.post("/api/v1/envoi/99999999/retour", headers=headers,
                       json={"motif": "npai"}).status_code == 404
    autre = api_token("admin_reseau_a")
    assert client.get("/api/v1/envoi/", headers=autre).status_code == 403
    assert client.post(f"/api/v1/envoi/{pk}/retour", headers=autre,
                       json={"motif": "npai"}).status_code == 403


def test_a_conflict_is_refused_in_the_service(app, ready):
    (cert,) = certifies(ready)
    lot = envois.enregistrer_envois([cert.id], TODAY, user(CP))
    with pytest.raises(ConflictError, match="Déjà envoyé"):
        envois.enregistrer_envois([cert.id], TODAY, user(CP))
    db.session.rollback()
    assert [x.id for x in db.session.scalars(select(LotEnvoi))] == [lot.id]
