"""Certification, first part: the check list before sending, routing (region / CPNE),
automatic assignment to the next open paritaire session, cancelling a send."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Branche, Certificateur, Notification
from app.services import candidatures, certification
from app.services.errors import ForbiddenError, RuleError
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user

TODAY = dt.date.today()


def a_envoyer(world, etab="etab_a1", **over):
    data = dossier(world, etab=etab, **{"email": "elodie@exemple.fr", "adresse": "3 rue Haute",
                                        "code_postal": "75011", "ville": "Paris", **over})
    c = candidatures.creer(data, user("utilisateur_etablissement_a" if etab.startswith("etab_a")
                                      else "utilisateur_etablissement_b"), True)
    candidatures.transition(c, "a_envoyer", None, "Évaluation validée (test)")
    db.session.commit()
    return c


def session(world, cert_region="IDF", open_=True, **over):
    cert = db.session.scalars(select(Certificateur).where(Certificateur.region == cert_region)
                              ).one()
    # dated today: a jury decides only from its session's date on
    data = {"certificateur_id": cert.id, "date_session": TODAY, "date_limite": TODAY,
            "mode": "distanciel",
            "membres": [{"nom": "E1", "college": "employeurs"},
                        {"nom": "S1", "college": "salaries"}]}
    data.update(over)
    s = certification.creer_session(data, user("certif_pro_a"))
    if open_:
        certification.ouvrir_session(s, user("certif_pro_a"))
    return s


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


def test_check_list_before_sending(app, ready):
    c = candidatures.creer(dossier(ready), user("utilisateur_etablissement_a"))
    with pytest.raises(RuleError, match="Seule une évaluation validée"):
        certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
    db.session.rollback()
    candidatures.transition(c, "a_envoyer", None)
    db.session.commit()
    with pytest.raises(RuleError, match="Complétez avant l'envoi : adresse e-mail, adresse "
                                        "postale, code postal, ville"):
        certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))


def test_routing_and_waiting_then_assignment_when_a_session_opens(app, ready):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
    assert c.statut == "attente_jury" and c.certificateur.region == "IDF"
    assert c.session_jury_id is None  # no session yet: waits for a jury
    s = session(ready)
    db.session.refresh(c)
    assert c.statut == "attente_certification" and c.session_jury_id == s.id
    titles = db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user("utilisateur_etablissement_a").id)).all()
    assert any(t.startswith("Dossier envoyé en certification") for t in titles)
    assert any(t.startswith("Dossier affecté à un jury") for t in titles)


def test_routing_to_the_branche_cpne(app, ready):
    from app.services import habilitations

    branche = db.session.execute(select(Branche)).scalar_one()
    hab = habilitations.demander({"etablissement_id": ready.ids["etab_a1"], "portee": "branche",
                                  "branche_id": branche.id}, None)
    habilitations.decider(hab, {"decision": "validee", "date_debut": TODAY,
                                "date_fin": TODAY + dt.timedelta(days=365)}, None)
    c = a_envoyer(ready, statut_inscription="salarie", branche_id=branche.id,
                  socle_contextualise=True)
    certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
    assert c.certificateur.type == "cpne" and c.certificateur.branche_id == branche.id


def test_sent_to_an_open_session_directly_and_deadline_respected(app, ready):
    late = session(ready, date_session=TODAY + dt.timedelta(days=2),
                   date_limite=TODAY - dt.timedelta(days=1))
    good = session(ready)
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
    assert c.session_jury_id == good.id != late.id


def test_sessions_must_be_paritaire(app, ready):
    s = session(ready, open_=False, membres=[{"nom": "E1", "college": "employeurs"},
                                             {"nom": "E2", "college": "employeurs"},
                                             {"nom": "S1", "college": "salaries"}])
    with pytest.raises(RuleError, match="paritaire"):
        certification.ouvrir_session(s, user("certif_pro_a"))
    with pytest.raises(RuleError, match="précéder"):
        session(ready, open_=False, date_limite=TODAY + dt.timedelta(days=30))
    with pytest.raises(ForbiddenError):
        certification.creer_session({"certificateur_id": s.certificateur_id},
                                    user("admin_reseau_a"))


@pytest.mark.parametrize("who,allowed", [
    ("utilisateur_etablissement_a", False), ("admin_organisme_a", False),
    ("admin_reseau_a", True), ("certif_pro_a", True)])
def test_cancel_send(app, ready, who, allowed):
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user("utilisateur_etablissement_a"))
    if allowed:
        certification.annuler_envoi(c, "Dossier envoyé par erreur", user(who))
        assert c.statut == "a_envoyer" and c.certificateur_id is None
    else:
        with pytest.raises(ForbiddenError, match="annuler un envoi"):
            certification.annuler_envoi(c, "Dossier envoyé par erreur", user(who))


def test_send_and_cancel_screens(app, ready, login):
    import html

    c = a_envoyer(ready, email="", adresse="")
    client = login("utilisateur_etablissement_a")
    page = html.unescape(client.get(f"/candidature/{c.id}").get_data(as_text=True))
    assert "Complétez avant l'envoi : adresse e-mail, adresse postale." in page
    assert "Envoyer en certification</button>" not in page
    candidatures.mise_a_jour(c, {"email": "e@x.fr", "adresse": "1 rue"},
                             user("utilisateur_etablissement_a"))
    page = html.unescape(client.get(f"/candidature/{c.id}").get_data(as_text=True))
    assert "Envoyer en certification</button>" in page
    response = client.post(f"/candidature/{c.id}/envoyer", follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert "Le dossier est envoyé en certification." in page
    assert "en attente d'affectation à un jury" in page and "Annuler l'envoi" not in page
    refused = client.post(f"/candidature/{c.id}/annuler-envoi",
                          data={"motif": "Dossier envoyé par erreur"}, follow_redirects=True)
    assert "Seuls l'administrateur réseau et Certif Pro" in html.unescape(
        refused.get_data(as_text=True))
    admin = login("admin_reseau_a")
    assert "Annuler l'envoi" in html.unescape(
        admin.get(f"/candidature/{c.id}").get_data(as_text=True))
    admin.post(f"/candidature/{c.id}/annuler-envoi", data={"motif": "Dossier envoyé par erreur"})
    db.session.refresh(c)
    assert c.statut == "a_envoyer"
