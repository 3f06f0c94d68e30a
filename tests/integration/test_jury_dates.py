"""The dates of a jury (issue 12, item 8): a session is never programmed in the past; its jury
decides, and it is closed, only from the session's date on — so a certificate never reads
« délivrée par le jury du 21/12 » when it was issued on 1 December. Service, screens and API."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Certificateur
from app.models.jury import Certificat, SessionJury
from app.services import certification
from app.services.errors import RuleError
from tests.integration.test_candidatures import T, habiliter
from tests.integration.test_certification import a_envoyer, session
from tests.world import user

TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)
YESTERDAY = TODAY - dt.timedelta(days=1)
OF = "utilisateur_etablissement_a"


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


@pytest.fixture
def demain(ready):
    """A dossier assigned to an open session dated tomorrow (deadline today)."""
    s = session(ready, date_session=TOMORROW, date_limite=TODAY)
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    assert c.statut == "attente_certification" and c.session_jury_id == s.id
    return s, c


def idf() -> Certificateur:
    return db.session.scalars(select(Certificateur).where(Certificateur.region == "IDF")).one()


def sessions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SessionJury))


MEMBRES = [{"nom": "E1", "college": "employeurs"}, {"nom": "S1", "college": "salaries"}]


def test_a_session_is_never_programmed_in_the_past(app, ready):
    with pytest.raises(RuleError, match="La date de la session ne peut pas être passée") as error:
        certification.creer_session({"certificateur_id": idf().id, "date_session": YESTERDAY,
                                     "date_limite": YESTERDAY, "mode": "distanciel",
                                     "membres": MEMBRES}, user("certif_pro_a"))
    assert error.value.field == "date_session"
    db.session.rollback()
    assert sessions_count() == 0
    today = certification.creer_session({"certificateur_id": idf().id, "date_session": TODAY,
                                         "date_limite": TODAY, "mode": "distanciel",
                                         "membres": MEMBRES}, user("certif_pro_a"))
    assert today.date_session == TODAY


def test_session_in_the_past_refused_by_the_screen_and_the_api(app, ready, login, api_token):
    cp = login("certif_pro_a")
    page = T(cp.post("/jury/nouvelle", data={
        "certificateur_id": str(idf().id), "date_session": YESTERDAY.isoformat(),
        "date_limite": YESTERDAY.isoformat(), "mode": "distanciel",
        "membre_nom_0": "E1", "membre_college_0": "employeurs"}))
    assert "La date de la session ne peut pas être passée : choisissez aujourd'hui ou une date " \
           "à venir." in page
    assert f'min="{TODAY.isoformat()}"' in T(cp.get("/jury/nouvelle"))
    response = app.test_client().post("/api/v1/jury/", headers=api_token("jury_a"), json={
        "certificateur_id": idf().id, "date_session": YESTERDAY.isoformat(),
        "date_limite": YESTERDAY.isoformat(), "mode": "distanciel", "membres": MEMBRES})
    assert response.status_code == 400
    assert "ne peut pas être passée" in response.json["message"]
    assert sessions_count() == 0


def test_no_decision_nor_closing_before_the_session_date(app, demain):
    s, c = demain
    with pytest.raises(RuleError, match=f"Le jury du {TOMORROW:%d/%m/%Y} ne peut statuer "
                                        "qu'à partir de la date de sa session"):
        certification.decider(c, "certifiee", "", user("jury_a"))
    db.session.rollback()
    with pytest.raises(RuleError, match=f"La session du {TOMORROW:%d/%m/%Y} ne peut être "
                                        "clôturée qu'à partir de cette date"):
        certification.cloturer_session(s, user("certif_pro_a"))
    db.session.rollback()
    assert c.statut == "attente_certification" and s.statut == "ouverte"
    assert db.session.scalar(select(func.count()).select_from(Certificat)) == 0
    assert not certification.peut_decider(c, user("jury_a"))
    assert not certification.peut_cloturer(s, user("jury_a"))
    # from the session's date on, the jury decides and the certificate reads that date
    certification.decider(c, "certifiee", "", user("jury_a"), today=TOMORROW)
    assert certification.certificat_de(c).date_jury == TOMORROW
    certification.cloturer_session(s, user("jury_a"), today=TOMORROW)
    assert s.statut == "close"


def test_jury_screens_hide_the_decision_and_say_from_when(app, demain, login):
    s, c = demain
    jury = login("jury_a")
    page = T(jury.get(f"/jury/dossier/{c.id}"))
    assert "Enregistrer la décision" not in page
    assert f"le formulaire de décision sera disponible le {TOMORROW:%d/%m/%Y}" in page
    page = T(jury.get(f"/jury/session/{s.id}"))
    assert "Examiner et statuer" not in page and "Clôturer la session</button>" not in page
    assert f"Les décisions et la clôture de cette session seront possibles à partir du " \
           f"{TOMORROW:%d/%m/%Y}" in page
    refused = T(jury.post(f"/jury/dossier/{c.id}/decision", data={"decision": "certifiee"},
                          follow_redirects=True))
    assert "ne peut statuer qu'à partir de la date de sa session" in refused
    closed = T(jury.post(f"/jury/session/{s.id}/cloturer", follow_redirects=True))
    assert "ne peut être clôturée qu'à partir de cette date" in closed
    db.session.expire_all()
    assert db.session.get(SessionJury, s.id).statut == "ouverte"
    assert certification.certificat_de(c) is None


def test_api_refuses_early_decisions_and_closing(app, demain, api_token):
    s, c = demain
    client, jury = app.test_client(), api_token("jury_a")
    decided = client.post(f"/api/v1/candidature/{c.id}/decision", headers=jury,
                          json={"decision": "certifiee"})
    assert decided.status_code == 400
    assert "ne peut statuer qu'à partir de la date de sa session" in decided.json["message"]
    closed = client.post(f"/api/v1/jury/{s.id}/cloturer", headers=jury)
    assert closed.status_code == 400
    assert "ne peut être clôturée qu'à partir de cette date" in closed.json["message"]
    assert client.get(f"/api/v1/jury/{s.id}", headers=jury).json["result"]["statut"] == \
        "ouverte"


def test_a_session_of_today_decides_and_closes(app, ready, login):
    s = session(ready)  # dated today
    c = a_envoyer(ready)
    certification.envoyer_en_certification(c, user(OF))
    jury = login("jury_a")
    assert "Enregistrer la décision" in T(jury.get(f"/jury/dossier/{c.id}"))
    jury.post(f"/jury/dossier/{c.id}/decision", data={"decision": "certifiee"})
    assert certification.certificat_de(c).date_jury == TODAY
    assert "Clôturer la session</button>" in T(jury.get(f"/jury/session/{s.id}"))


def test_demo_data_follows_the_dates(app, world):
    from app.services import demo

    demo.load_demo()
    sessions = db.session.scalars(select(SessionJury).order_by(SessionJury.date_session)).all()
    passee = sessions[0]
    assert passee.date_session < TODAY and passee.statut == "close" and passee.proces_verbal
    for certificat in db.session.scalars(select(Certificat)):
        assert certificat.date_jury <= TODAY  # never issued before its jury sat
    ouvertes = [s for s in sessions if s.statut == "ouverte"]
    assert ouvertes and all(s.date_session >= TODAY for s in ouvertes)
