"""Sessions are server-side (finding 1 of issue 13), checked on every request by every app
server: two app objects on ONE PostgreSQL database stand for two servers behind a load
balancer. A cookie copied before a logout opens nothing after it, on either server; a password
change ends the user's other sessions and API tokens; « Se déconnecter de tous les appareils »
ends them all; idle and absolute timeouts end a session whatever the cookie says."""
from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditLog, UserSession
from app.services import candidatures
from tests.conftest import _isolate_requests, make_test_app
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import PASSWORD, user

POSTGRES = [pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
pytestmark = pytest.mark.parametrize("backend", POSTGRES, indirect=True)
USERNAME = "utilisateur_etablissement_a"
NEW_PASSWORD = "Nouveau-Secret-2027?"


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def server_b(app, app_overrides):
    """A second app server on the same database (same SECRET_KEY, as in production)."""
    other = make_test_app(app.config["TEST_DATABASE_URL"], TEST_WORLD=app.config["TEST_WORLD"],
                          UPLOAD_DIR=app.config["UPLOAD_DIR"], **app_overrides)
    _isolate_requests(other)
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def dossier_id(app, world):
    habiliter(world, "etab_a1")
    return candidatures.creer(dossier(world), user(USERNAME)).id


def log_in(server, username=USERNAME, password=PASSWORD, ip="192.0.2.10"):
    client = server.test_client()
    response = client.post("/login/", data={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302 and "/login/" not in response.headers["Location"]
    return client


def copy_of(client, server):
    """Another browser (or an attacker) holding the same session cookie, on `server`."""
    other = server.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def opens(client, dossier_id) -> bool:
    """The client reads /evaluations/ and the dossier; False when both send it to the login
    page."""
    pages = [client.get("/evaluations/"), client.get(f"/candidature/{dossier_id}")]
    if all(p.status_code == 200 for p in pages):
        assert "DUPRÉ" in T(pages[0]) and "DUPRÉ" in T(pages[1])
        return True
    for page in pages:
        assert page.status_code == 302 and "/login/" in page.headers["Location"], page.status
    return False


def api_token(server, username=USERNAME, password=PASSWORD) -> dict:
    response = server.test_client().post("/api/v1/security/login", json={
        "username": username, "password": password, "provider": "db"})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def api_reads(server, headers) -> int:
    return server.test_client().get("/api/v1/candidature/", headers=headers).status_code


def test_copied_cookie_opens_nothing_after_logout_on_any_server(app, server_b, dossier_id):
    browser = log_in(app)
    stolen_a, stolen_b = copy_of(browser, app), copy_of(browser, server_b)
    assert opens(stolen_a, dossier_id) and opens(stolen_b, dossier_id)
    # The user logs out; the load balancer sent the logout to server B.
    copy_of(browser, server_b).post("/logout/")
    assert not opens(stolen_a, dossier_id)
    assert not opens(stolen_b, dossier_id)
    assert not opens(browser, dossier_id)
    row = db.session.execute(select(UserSession)).scalar_one()
    assert row.ended_on is not None and row.end_reason == "deconnexion"
    actions = db.session.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert "connexion" in actions and "deconnexion" in actions
    # Logging in again opens a new session.
    assert opens(log_in(server_b), dossier_id)


def test_password_change_ends_the_other_sessions_and_api_tokens(app, server_b, dossier_id):
    here = log_in(app)
    laptop = log_in(server_b, ip="198.51.100.7")
    token = api_token(server_b)
    assert api_reads(app, token) == 200
    response = here.post("/profil/mot-de-passe", data={
        "current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    # This browser stays connected, on both servers.
    assert opens(here, dossier_id) and opens(copy_of(here, server_b), dossier_id)
    # The other browser is out, on both servers; so is the API token issued before.
    assert not opens(laptop, dossier_id) and not opens(copy_of(laptop, app), dossier_id)
    refused = app.test_client().get("/api/v1/candidature/", headers=token)
    assert refused.status_code == 401 and "reconnectez-vous" in refused.json["message"]
    assert api_reads(server_b, token) == 401
    assert api_reads(app, api_token(server_b, password=NEW_PASSWORD)) == 200
    ended = db.session.execute(select(UserSession.end_reason).where(
        UserSession.ended_on.is_not(None))).scalars().all()
    assert ended == ["mot_de_passe"]
    api_logins = db.session.execute(select(AuditLog.detail).where(
        AuditLog.action == "connexion", AuditLog.user_id == user(USERNAME).id)).scalars().all()
    assert api_logins.count("api") == 2


def test_reset_link_and_suspension_end_every_session(app, server_b, dossier_id, login):
    browser = log_in(server_b)
    anonymous = app.test_client()
    anonymous.post("/compte/mot-de-passe-oublie", data={"login": USERNAME})
    from tests.integration.test_accounts import last_link, path_of

    link = path_of(last_link(f"{USERNAME}@test.fr"))
    response = anonymous.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not opens(browser, dossier_id) and not opens(copy_of(browser, app), dossier_id)
    # A manager suspends the account: its open sessions end as well.
    again = log_in(app, password=NEW_PASSWORD)
    manager = login("admin_etablissement_a")
    manager.post(f"/utilisateurview/suspendre/{user(USERNAME).id}")
    assert not opens(copy_of(again, server_b), dossier_id)
    reasons = db.session.execute(select(UserSession.end_reason)).scalars().all()
    assert sorted(r for r in reasons if r) == ["mot_de_passe", "suspension"]


def test_log_out_of_every_device(app, server_b, dossier_id):
    phone = log_in(app, ip="203.0.113.5")
    laptop = log_in(server_b, ip="198.51.100.7")
    token = api_token(app)
    profile = T(laptop.get("/profil/"))
    assert "Mes connexions" in profile and "Se déconnecter de tous les appareils" in profile
    assert "203.0.113.5" in profile and "198.51.100.7" in profile and "(cet appareil)" in profile
    response = laptop.post("/profil/deconnecter-partout", follow_redirects=True)
    assert "Vous êtes déconnecté de tous les appareils" in T(response)
    assert response.request.path == "/login/"
    for client in (phone, laptop):
        assert not opens(client, dossier_id)
        assert not opens(copy_of(client, server_b), dossier_id)
    assert api_reads(server_b, token) == 401
    reasons = db.session.execute(select(UserSession.end_reason)).scalars().all()
    assert reasons == ["tous_les_appareils", "tous_les_appareils"]
    assert opens(log_in(app), dossier_id)


def _age(**changes):
    db.session.execute(update(UserSession).where(UserSession.ended_on.is_(None))
                       .values(**changes))
    db.session.commit()


def test_idle_timeout(app, server_b, dossier_id, count_queries):
    browser = log_in(app)
    now = dt.datetime.now()
    # Within the idle timeout (120 min): open, and last_seen is written again...
    _age(last_seen=now - dt.timedelta(minutes=119))
    assert opens(copy_of(browser, server_b), dossier_id)
    seen = db.session.execute(select(UserSession.last_seen)).scalar_one()
    assert seen > now - dt.timedelta(minutes=1)
    # ... but at most once a minute: the next requests write nothing.
    with count_queries() as counter:
        assert opens(browser, dossier_id)
    assert not [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE")]
    # 121 minutes without a request: over, on both servers.
    _age(last_seen=now - dt.timedelta(minutes=121))
    assert not opens(copy_of(browser, server_b), dossier_id)
    assert not opens(browser, dossier_id)
    row = db.session.execute(select(UserSession)).scalar_one()
    assert row.end_reason == "inactivite"


@pytest.mark.parametrize("app_overrides", [{"CLEA_SESSION_MAX_HOURS": 2,
                                            "CLEA_SESSION_IDLE_MINUTES": 30}])
def test_absolute_timeout_and_configured_idle_timeout(app, server_b, dossier_id):
    browser = log_in(app)
    now = dt.datetime.now()
    # Active all along, but logged in more than CLEA_SESSION_MAX_HOURS ago: over.
    _age(created_on=now - dt.timedelta(hours=2, minutes=1), last_seen=now)
    assert not opens(copy_of(browser, server_b), dossier_id)
    assert db.session.execute(select(UserSession.end_reason)).scalar_one() == "duree_maximale"
    # CLEA_SESSION_IDLE_MINUTES=30: 31 minutes without a request end the session.
    browser = log_in(server_b)
    _age(last_seen=now - dt.timedelta(minutes=31))
    assert not opens(browser, dossier_id)
    assert sorted(db.session.execute(select(UserSession.end_reason)).scalars()) == [
        "duree_maximale", "inactivite"]
