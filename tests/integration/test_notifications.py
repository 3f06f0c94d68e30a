"""Notification centre: recipients, the page and its filters, the bell, preferences, news,
support form; e-mail delivery with retries, once even with two schedulers."""
from __future__ import annotations

import datetime as dt
import html
import os
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import EmailMessage, Etablissement, Notification, Organisme
from app.security import roles as R
from app.services import accounts, actualites, notifications
from app.services.errors import RuleError
from tests.conftest import BACKENDS
from tests.world import user


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def M(response) -> str:
    """The page's main content (without the header's bell pop-up)."""
    text = T(response)
    return text[text.index("<main"):text.index("</main>")]


def names(users) -> set[str]:
    return {u.username for u in users}


def notify_user(username, rubrique=notifications.HABILITATION, titre="Titre", lien="/profil/"):
    notes = notifications.notify([user(username)], rubrique, titre, "Texte", lien=lien)
    db.session.commit()
    return notes[0]


# --- recipients -------------------------------------------------------------------------------

def test_audiences(app, world):
    etab = db.session.get(Etablissement, world.ids["etab_a1"])
    assert names(notifications.gestionnaires_etablissement(etab)) == {
        "admin_etablissement_a", "utilisateur_etablissement_a", "admin_organisme_a",
        "utilisateur_organisme_a"}
    org = db.session.get(Organisme, world.ids["org_a1"])
    assert names(notifications.administrateurs_organisme(org)) == {
        "admin_organisme_a", "admin_reseau_a", "superviseur_reseau_a"}
    assert names(notifications.certif_pro()) == {"certif_pro_a"}
    assert notifications.reseau_abonnes_nouvelle_candidature(etab) == []
    accounts.update_profile(user("admin_reseau_a"), {"notifier_nouvelle_candidature": True})
    assert names(notifications.reseau_abonnes_nouvelle_candidature(etab)) == {"admin_reseau_a"}
    other = db.session.get(Etablissement, world.ids["etab_b1"])
    assert notifications.reseau_abonnes_nouvelle_candidature(other) == []
    accounts.set_active(user("utilisateur_etablissement_a"), False, None)
    assert "utilisateur_etablissement_a" not in names(
        notifications.gestionnaires_etablissement(etab))


def test_account_events_notify_the_user_concerned(app, world):
    manager = user("admin_organisme_a")
    target = user("utilisateur_etablissement_a")
    accounts.update_user(target, {"role": R.ADMIN_ETABLISSEMENT.code,
                                  "etablissement_id": world.ids["etab_a1b"]}, manager)
    note = db.session.execute(select(Notification)).scalar_one()
    assert note.user_id == target.id and note.rubrique == notifications.COMPTES
    assert "Administrateur établissement" in note.texte and "ETAB_A1B" in note.texte
    mail = db.session.execute(select(EmailMessage)).scalar_one()
    assert mail.destinataire == target.email and mail.sujet == "Votre rôle ou votre périmètre a changé"
    accounts.update_user(target, {"telephone": "0102030405"}, manager)  # no role change
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 1
    accounts.set_active(target, False, manager)
    accounts.set_active(target, True, manager)
    titles = db.session.scalars(select(Notification.titre).order_by(Notification.id)).all()
    assert titles == ["Votre rôle ou votre périmètre a changé", "Votre compte est réactivé"]


def test_preferences_turn_emails_off_not_notifications(app, world):
    target = user("admin_etablissement_a")
    notifications.set_preferences(target, {notifications.HABILITATION: False})
    notify_user("admin_etablissement_a", notifications.HABILITATION)
    notify_user("admin_etablissement_a", notifications.CERTIFICATION)
    assert notifications.unread_count(target) == 2
    rubriques = db.session.scalars(select(EmailMessage.rubrique)).all()
    assert rubriques == [notifications.CERTIFICATION]
    assert notifications.preferences(target)[notifications.HABILITATION] is False


# --- the page, the bell, the arrow, bulk read ---------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_page_filters_eye_arrow_and_bulk_read(app, world, login):
    a = notify_user("admin_etablissement_a", notifications.HABILITATION, "Habilitation validée",
                    lien="/etablissementview/show/%d" % world.ids["etab_a1"])
    b = notify_user("admin_etablissement_a", notifications.CERTIFICATION, "Dossier certifié")
    c = notify_user("admin_etablissement_a", notifications.RATTACHEMENT, "Rattachement accepté")
    foreign = notify_user("utilisateur_etablissement_b", notifications.COMPTES, "Pas pour vous")
    client = login("admin_etablissement_a")
    page = T(client.get("/"))
    assert 'data-count="3"' in page and "Voir toutes les notifications" in page
    page = M(client.get("/notifications/?rubrique=certification&lu=non"))
    assert "Dossier certifié" in page and "Habilitation validée" not in page
    # eye
    client.post(f"/notifications/lire/{b.id}")
    page = M(client.get("/notifications/?lu=non"))
    assert "Dossier certifié" not in page and "Habilitation validée" in page
    assert "Dossier certifié" in M(client.get("/notifications/?lu=oui"))
    # arrow: opens the action and marks read
    assert client.get(f"/notifications/ouvrir/{a.id}").status_code == 405  # GET changes nothing
    assert 'data-count="2"' in T(client.get("/"))
    response = client.post(f"/notifications/ouvrir/{a.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/etablissementview/show/{world.ids['etab_a1']}")
    assert 'data-count="1"' in T(client.get("/"))
    # someone else's notification: 404, and bulk read ignores it
    assert client.post(f"/notifications/ouvrir/{foreign.id}").status_code == 404
    response = client.post("/notifications/lire", data={"ids": [c.id, foreign.id]},
                           follow_redirects=True)
    assert "1 notification marquée comme lue" in T(response)
    assert "Aucune notification" in T(client.get("/notifications/?lu=non"))
    assert 'data-count="0"' in T(client.get("/"))
    history = M(client.get("/notifications/?lu=oui"))
    assert all(t in history for t in ("Habilitation validée", "Dossier certifié",
                                      "Rattachement accepté"))
    db.session.expire_all()
    assert db.session.get(Notification, foreign.id).lu is False


def test_external_links_are_never_followed(app, world, login):
    note = notify_user("admin_etablissement_a", lien="https://evil.example/")
    response = login("admin_etablissement_a").post(f"/notifications/ouvrir/{note.id}")
    assert response.headers["Location"].endswith("/notifications/")


def test_api_notifications(app, world, api_token):
    notify_user("admin_etablissement_a", notifications.HABILITATION, "Un")
    second = notify_user("admin_etablissement_a", notifications.CERTIFICATION, "Deux")
    notify_user("utilisateur_etablissement_b", notifications.COMPTES, "Autre")
    client = app.test_client()
    headers = api_token("admin_etablissement_a")
    assert client.get("/api/v1/notification/non-lues", headers=headers).json["count"] == 2
    listing = client.get("/api/v1/notification/?rubrique=certification", headers=headers).json
    assert [n["titre"] for n in listing["result"]] == ["Deux"]
    assert listing["result"][0]["rubrique_libelle"] == "Certification des candidatures"
    assert client.post(f"/api/v1/notification/{second.id}/lire",
                       headers=headers).status_code == 200
    other = db.session.execute(select(Notification).where(Notification.titre == "Autre")
                               ).scalar_one()
    assert client.post(f"/api/v1/notification/{other.id}/lire",
                       headers=headers).status_code == 404
    assert client.post("/api/v1/notification/lire", json={"toutes": True},
                       headers=headers).json["count"] == 1
    assert client.get("/api/v1/notification/non-lues", headers=headers).json["count"] == 0
    assert client.post("/api/v1/notification/lire", json={"ids": "x"},
                       headers=headers).status_code == 400
    assert client.get("/api/v1/notification/").status_code == 401


def test_profile_preferences_form(app, world, login):
    client = login("admin_reseau_a")
    response = client.post("/profil/notifications", data={
        "email_certification": "1", "notifier_nouvelle_candidature": "1"}, follow_redirects=True)
    assert "Vos préférences de notification sont enregistrées" in T(response)
    prefs = notifications.preferences(user("admin_reseau_a"))
    assert prefs[notifications.CERTIFICATION] is True and prefs[notifications.HABILITATION] is False
    db.session.expire_all()
    assert user("admin_reseau_a").notifier_nouvelle_candidature is True


# --- actualités and support ---------------------------------------------------------------------

def test_actualites_written_by_certif_pro_shown_while_current(app, world, login, api_token):
    today = dt.date.today()
    client = login("certif_pro_a")
    response = client.post("/actualiteview/add", data={
        "titre": "Nouveau référentiel", "texte": "Le référentiel évolue.",
        "publie_le": today.isoformat(), "expire_le": ""})
    assert response.status_code == 302
    actualites.create({"titre": "Ancienne", "texte": "x", "publie_le": "2020-01-01",
                       "expire_le": "2020-02-01"}, user("certif_pro_a"))
    actualites.create({"titre": "Future", "texte": "x",
                       "publie_le": (today + dt.timedelta(days=3)).isoformat()},
                      user("certif_pro_a"))
    with pytest.raises(RuleError, match="expiration doit suivre"):
        actualites.create({"titre": "X", "texte": "x", "publie_le": "2026-01-10",
                           "expire_le": "2026-01-01"}, user("certif_pro_a"))
    db.session.rollback()
    home = T(login("utilisateur_etablissement_a").get("/"))
    assert "Nouveau référentiel" in home and "Ancienne" not in home and "Future" not in home
    assert login("utilisateur_etablissement_a").get("/actualiteview/add").status_code == 403
    api = app.test_client().get("/api/v1/actualite/",
                                headers=api_token("utilisateur_etablissement_a")).json
    assert [n["titre"] for n in api["result"]] == ["Nouveau référentiel"]
    api = app.test_client().get("/api/v1/actualite/", headers=api_token("certif_pro_a")).json
    assert api["count"] == 3


def test_support_form_sends_identity_and_page(app, world, login):
    client = login("admin_organisme_a")
    page = T(client.get("/aide/?page=/organismeview/list/"))
    assert "Aide / Contact" in page and "support-clea@certif-pro.fr" in page
    refused = client.post("/aide/", data={"sujet": "", "message": "court", "page": "/x"})
    assert refused.status_code == 400 and "Indiquez l'objet" in T(refused)
    assert db.session.execute(select(func.count()).select_from(EmailMessage)).scalar_one() == 0
    response = client.post("/aide/", data={"sujet": "Question SIRET",
                                           "message": "Comment corriger un SIRET ?",
                                           "page": "/organismeview/list/"},
                           follow_redirects=True)
    assert "Votre demande a été envoyée au support" in T(response)
    mail = db.session.execute(select(EmailMessage)).scalar_one()
    assert mail.destinataire == "support-clea@certif-pro.fr"
    assert "[Support CléA] Question SIRET" == mail.sujet
    for expected in ("admin_organisme_a", "Administrateur organisme", "ORG_A1",
                     "/organismeview/list/", "Comment corriger un SIRET ?"):
        assert expected in mail.corps_texte


# --- delivery ---------------------------------------------------------------------------------

@pytest.fixture
def app_overrides(request):
    if "smtp_server" in request.fixturenames:
        smtp = request.getfixturevalue("smtp_server")
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port, "MAIL_SUPPRESS_SEND": False}
    return {}


def test_smtp_fails_twice_then_delivers_once(app, world, smtp_server):
    from app.services.mail import deliver_pending

    smtp_server.fail = 2
    notify_user("admin_etablissement_a")
    row = db.session.execute(select(EmailMessage)).scalar_one()
    assert row.statut == "a_envoyer"
    now = dt.datetime.now()
    assert deliver_pending(now=now) == 0
    db.session.refresh(row)
    assert row.statut == "a_envoyer" and row.tentatives == 1 and "451" in row.derniere_erreur
    assert deliver_pending(now=now) == 0  # not due yet (backoff)
    assert deliver_pending(now=now + dt.timedelta(minutes=1, seconds=1)) == 0
    db.session.refresh(row)
    assert row.tentatives == 2
    assert deliver_pending(now=now + dt.timedelta(minutes=10)) == 1
    db.session.refresh(row)
    assert row.statut == "envoye" and row.tentatives == 3 and row.derniere_erreur is None
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].rcpt_tos == ["admin_etablissement_a@test.fr"]
    assert deliver_pending(now=now + dt.timedelta(hours=2)) == 0
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_two_schedulers_send_each_email_once(app, world, smtp_server):
    """Two scheduler processes run the e-mail job at the same time; and two senders that
    bypass the job lock still send each message once (each message is claimed)."""
    for username in ("admin_etablissement_a", "utilisateur_etablissement_a",
                     "admin_organisme_a", "utilisateur_organisme_a", "certif_pro_a"):
        for i in range(4):
            notify_user(username, titre=f"Message {i}")
    total = db.session.execute(select(func.count()).select_from(EmailMessage)).scalar_one()
    env = {**os.environ, "DATABASE_URL": app.config["TEST_DATABASE_URL"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port),
           "CLEA_SECURITY_HEADERS": "0"}
    command = [sys.executable, "-m", "flask", "--app", "run", "clea", "run-job",
               "envoyer_emails"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert len(smtp_server.messages) == total, outputs
    # Now bypass the lock: two threads deliver a new batch concurrently.
    for username in ("admin_etablissement_a", "certif_pro_a"):
        for i in range(10):
            notify_user(username, titre=f"Lot 2 — {i}")
    from app.services.mail import deliver_pending

    def sender():
        with app.app_context():
            deliver_pending()
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert len(smtp_server.messages) == total + 20
    subjects = [m.content.decode(errors="replace") for m in smtp_server.messages]
    assert len(set(subjects)) == len(subjects)  # no message twice
    assert db.session.execute(select(func.count()).select_from(EmailMessage).where(
        EmailMessage.statut == "envoye")).scalar_one() == total + 20


def test_job_lock_runs_a_job_once(app, world):
    from app.jobs import locks

    with locks.locked("demo", owner="A") as first:
        with locks.locked("demo", owner="B") as second:
            assert first is True and second is False
    with locks.locked("demo", owner="B") as again:
        assert again is True
