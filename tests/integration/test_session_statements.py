"""Issue 14, « National volume »: what a session costs each request.

- Database store (no CLEA_REDIS_URL): the browser's session row and its user are read in ONE
  statement (was two: the row, then the user), and revocation holds as before: a session
  ended on another server, or a suspended account, is refused at the next request.
- Shared store (Redis): an API request reads the user's session generation (that its token
  carries) from Redis, not from the database; a password change or « Se déconnecter de tous
  les appareils » raises it in the database and in Redis at the commit, so that the old token
  is refused at once; the database stays the source (Redis emptied: the old token is still
  refused, the new one accepted)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import UserSession, Utilisateur
from app.security import roles as R
from app.services import partage, sessions
from tests.conftest import BACKENDS
from tests.world import PASSWORD, user

USERNAME = "utilisateur_etablissement_a"
NEW_PASSWORD = "Nouveau-Secret-2027?"
API = "/api/v1/notification/"
# the user read alone by its id (Flask-Login's loader or flask_jwt_extended's)
USER_BY_ID = re.compile(r"FROM ab_user\s+WHERE ab_user\.id = ", re.S)


@pytest.fixture
def app_overrides(request):
    if "redis_url" in request.fixturenames:
        return {"CLEA_REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def _page_statements(browser, count_queries) -> list[str]:
    browser.get("/notifications/")  # warm-up
    db.session.remove()  # a fresh session, as each request has in production
    with count_queries() as counter:
        page = browser.get("/notifications/")
    assert page.status_code == 200
    return list(counter.statements)


def test_database_store_reads_the_session_then_its_user_with_roles_and_bell(app, login,
                                                                             count_queries):
    """Two statements before the page's own: the session's row (read fresh on every
    request, so that a session ended elsewhere is seen at once), then the user with their
    roles, the roles' fingerprint and the bell's count together (security.manager); the
    user is never read alone by its id."""
    statements = _page_statements(login(USERNAME), count_queries)
    check = [s for s in statements if "user_session" in s]
    assert len(check) == 1, check
    assert "token_hash =" in check[0] and "ab_user" not in check[0]
    loaded = [s for s in statements if "FROM ab_user" in s and "ab_user_role" in s]
    assert len(loaded) == 1 and "notification" in loaded[0], statements
    assert statements.index(check[0]) < statements.index(loaded[0])
    assert not [s for s in statements if USER_BY_ID.search(s)], statements


def test_database_store_still_refuses_an_ended_session_or_a_suspended_account(app, login):
    browser, other = login(USERNAME), login(USERNAME)
    assert browser.get("/notifications/").status_code == 200
    # the session ended by another app server (its row only): refused at the next request
    db.session.execute(update(UserSession).where(UserSession.ended_on.is_(None))
                       .values(ended_on=sessions._now(), end_reason=sessions.DECONNEXION))
    db.session.commit()
    assert browser.get("/notifications/").status_code == 302
    assert other.get("/notifications/").status_code == 302
    # a suspended account: refused although its session row is open
    third = login(USERNAME)
    assert third.get("/notifications/").status_code == 200
    db.session.execute(update(Utilisateur).where(Utilisateur.username == USERNAME)
                       .values(active=False))
    db.session.commit()
    assert third.get("/notifications/").status_code == 302


def _generation_reads(client, headers, count_queries) -> tuple[int, list[str]]:
    db.session.remove()
    with count_queries() as counter:
        response = client.get(API, headers=headers)
    return response.status_code, [s for s in counter.statements
                                  if s.startswith("SELECT ab_user.session_generation")]


def test_api_tokens_read_the_generation_from_redis(redis_url, app, api_token, count_queries):
    client, headers = app.test_client(), api_token(USERNAME)
    me = user(USERNAME)
    # first request: Redis does not hold it yet, the database is read, Redis keeps it
    status, reads = _generation_reads(client, headers, count_queries)
    assert status == 200 and len(reads) == 1
    assert partage.client().get(f"clea:gen:{me.id}") == str(me.session_generation)
    # then every request reads Redis only
    for _ in range(3):
        status, reads = _generation_reads(client, headers, count_queries)
        assert status == 200 and reads == []


def test_api_tokens_refused_at_once_after_a_password_change(redis_url, app, login, api_token,
                                                            count_queries):
    client, old = app.test_client(), api_token(USERNAME)
    assert client.get(API, headers=old).status_code == 200
    browser = login(USERNAME)
    assert browser.post("/profil/mot-de-passe", data={
        "current": PASSWORD, "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}).status_code == 302
    generation = db.session.scalar(db.select(Utilisateur.session_generation)
                                   .where(Utilisateur.username == USERNAME))
    assert partage.client().get(f"clea:gen:{user(USERNAME).id}") == str(generation)
    status, reads = _generation_reads(client, old, count_queries)
    assert status == 401 and reads == []  # refused from Redis, no database read
    assert client.get(API, headers=old).json["message"]
    new = api_token(USERNAME, NEW_PASSWORD)
    assert client.get(API, headers=new).status_code == 200
    # « Se déconnecter de tous les appareils »: the token of that moment is refused too
    browser = login(USERNAME, NEW_PASSWORD)
    assert browser.post("/profil/deconnecter-partout").status_code in (200, 302)
    assert client.get(API, headers=new).status_code == 401
    # Redis emptied: the database, the source, still refuses the old tokens
    partage.client().flushdb()
    assert client.get(API, headers=old).status_code == 401
    assert client.get(API, headers=new).status_code == 401
    assert client.get(API, headers=api_token(USERNAME, NEW_PASSWORD)).status_code == 200


def test_a_rolled_back_change_leaves_redis_as_it_was(redis_url, app, api_token):
    client, headers = app.test_client(), api_token(USERNAME)
    assert client.get(API, headers=headers).status_code == 200
    key = f"clea:gen:{user(USERNAME).id}"
    before = partage.client().get(key)
    sessions.terminer_toutes(user(USERNAME), sessions.MOT_DE_PASSE)
    db.session.rollback()
    assert partage.client().get(key) == before
    assert client.get(API, headers=headers).status_code == 200
    # committed: Redis follows, the token is refused
    sessions.terminer_toutes(user(USERNAME), sessions.SUSPENSION)
    db.session.commit()
    assert partage.client().get(key) == str(int(before) + 1)
    assert client.get(API, headers=headers).status_code == 401


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_role_edited_elsewhere_is_obeyed_at_the_next_request(app, login):
    """The permissions of a role set are kept by each app server (one statement per request
    reads the user's roles and a fingerprint of their permission rows, not every row). A
    permission taken from the role — FAB's role screen, `flask clea init`, another server —
    changes the fingerprint: the next request refuses; given back, the page opens again."""
    client = login("admin_reseau_a")
    assert client.get("/stats/").status_code == 200
    sm = app.appbuilder.sm
    role = sm.find_role(R.ADMIN_RESEAU.name)
    taken = [pv for pv in role.permissions if pv.view_menu.name == "Stats"]
    assert taken
    for pv in taken:
        sm.del_permission_role(role, pv)
    db.session.remove()
    refused = client.get("/stats/")
    assert refused.status_code in (302, 403, 404)
    role = sm.find_role(R.ADMIN_RESEAU.name)
    for pv in taken:
        sm.add_permission_role(role, db.session.merge(pv))
    db.session.remove()
    assert client.get("/stats/").status_code == 200
