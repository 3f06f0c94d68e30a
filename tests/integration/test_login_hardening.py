"""Login hardening (finding 3 of issue 13): a known and an unknown login get the same answers
(and the same work: one password hash check); failures slow down one (login, address) or one
address, never the account, so a stranger cannot lock the real user out; « Mot de passe
oublié » is limited per account and per address with an unchanged answer; the password
policy refuses the login, the names and the last passwords; the journal records it all."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AttemptCounter, AuditLog, EmailMessage
from app.services import accounts, tentatives
from app.services.errors import RuleError
from tests.world import PASSWORD, user

KNOWN = "utilisateur_organisme_a"
UNKNOWN = "personne.inconnue"
SLOW = {"CLEA_LOGIN_DELAY_SECONDS": 600, "CLEA_LOGIN_DELAY_MAX_SECONDS": 3600}


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def without_tokens(page: str) -> str:
    """The page without its CSRF tokens, and without the seconds left of a delay (they
    depend on the clock between two requests, not on the account)."""
    page = re.sub(r"csrf_token[\"':= ]+[\w.\-]+", "", page)
    return re.sub(r"patientez \d+ secondes", "patientez N secondes", page)


def attempt(app, username, password="Mauvais-Secret-1!", ip="192.0.2.1", follow=False):
    return app.test_client().post("/login/?next=/evaluations/", data={
        "username": username, "password": password}, environ_base={"REMOTE_ADDR": ip},
        follow_redirects=follow)


def answer(app, username, ip, password="Mauvais-Secret-1!"):
    """What the browser gets: status and redirect, then the page it lands on."""
    client = app.test_client()
    first = client.post("/login/?next=/evaluations/", data={
        "username": username, "password": password}, environ_base={"REMOTE_ADDR": ip})
    page = client.get(first.headers["Location"], environ_base={"REMOTE_ADDR": ip})
    return first.status_code, first.headers["Location"], page.status_code, \
        without_tokens(page.get_data(as_text=True))


@pytest.mark.parametrize("app_overrides", [SLOW])
def test_known_and_unknown_logins_get_identical_answers(app, world, monkeypatch):
    from app.security import manager

    checks = []
    real_check = manager.check_password_hash
    monkeypatch.setattr(manager, "check_password_hash",
                        lambda digest, password: checks.append(digest) or real_check(digest,
                                                                                      password))
    # A suspended account answers like an unknown one too.
    suspended = user("utilisateur_etablissement_a")
    suspended.active = False
    db.session.commit()
    for attempt_number in range(1, 8):
        known = answer(app, KNOWN, "192.0.2.1")
        unknown = answer(app, UNKNOWN, "192.0.2.2")
        inactive = answer(app, "utilisateur_etablissement_a", "192.0.2.3")
        assert known == unknown == inactive, f"attempt {attempt_number}"
        assert "verrouillé" not in html.unescape(known[3])
        if attempt_number <= 5:
            assert "Identifiant ou mot de passe incorrect." in html.unescape(known[3])
        else:
            assert "Trop de tentatives de connexion depuis votre adresse" in html.unescape(
                known[3])
    # One password hash check per attempt for each, unknown logins included (a dummy hash),
    # and none while the delay runs.
    assert len(checks) == 3 * 5
    # The API answers alike as well.
    api = [app.test_client().post("/api/v1/security/login", json={
        "username": name, "password": "Mauvais-Secret-1!", "provider": "db"},
        environ_base={"REMOTE_ADDR": "192.0.2.9"}) for name in (KNOWN, UNKNOWN)]
    assert api[0].status_code == api[1].status_code == 401
    assert api[0].get_data() == api[1].get_data()


@pytest.mark.parametrize("app_overrides", [{**SLOW, "CLEA_LOGIN_IP_FAILURES_FREE": 8}])
def test_a_stranger_cannot_lock_the_real_user_out(app, world):
    stranger = "203.0.113.66"
    for _ in range(20):
        attempt(app, KNOWN, ip=stranger)
    # From the stranger's address even the right password waits...
    refused = attempt(app, KNOWN, password=PASSWORD, ip=stranger, follow=True)
    assert "Trop de tentatives de connexion depuis votre adresse" in T(refused)
    assert refused.request.path == "/login/"
    # ... the real user, from their own address, logs in at once.
    ok = attempt(app, KNOWN, password=PASSWORD, ip="198.51.100.20")
    assert ok.status_code == 302 and ok.headers["Location"] == "/evaluations/"
    # Spraying many logins from one address slows that address down, for every login...
    sprayer = "203.0.113.99"
    for i in range(8):
        attempt(app, f"victime{i}", ip=sprayer)
    sprayed = attempt(app, "certif_pro_a", password=PASSWORD, ip=sprayer, follow=True)
    assert "Trop de tentatives de connexion depuis votre adresse" in T(sprayed)
    # ... and nobody else.
    assert attempt(app, "certif_pro_a", password=PASSWORD, ip="198.51.100.21").status_code == 302
    # Only hashes of logins and addresses are kept.
    keys = " ".join(db.session.execute(select(AttemptCounter.key)).scalars())
    assert stranger not in keys and KNOWN not in keys


@pytest.mark.parametrize("app_overrides", [{"CLEA_LOGIN_DELAY_SECONDS": 60,
                                            "CLEA_LOGIN_DELAY_MAX_SECONDS": 200}])
def test_progressive_delay_doubles_then_ends(app, world):
    ip = "192.0.2.50"

    def time_passes():
        db.session.execute(update(AttemptCounter).where(AttemptCounter.blocked_until.is_not(None))
                           .values(blocked_until=dt.datetime.now() - dt.timedelta(seconds=1)))
        db.session.commit()

    for _ in range(4):
        attempt(app, KNOWN, ip=ip)
    assert tentatives.attente(KNOWN, ip) == 0
    attempt(app, KNOWN, ip=ip)  # 5th failure: 60 s
    assert 50 < tentatives.attente(KNOWN, ip) <= 60
    refused = attempt(app, KNOWN, password=PASSWORD, ip=ip, follow=True)
    assert "patientez 60 secondes" in T(refused) or "patientez 59 secondes" in T(refused)
    delays = []
    for _ in range(3):  # 6th, 7th, 8th failures: 120 s, 200 s (cap), 200 s
        time_passes()
        attempt(app, KNOWN, ip=ip)
        delays.append(tentatives.attente(KNOWN, ip))
    assert 110 < delays[0] <= 120 and 190 < delays[1] <= 200 and 190 < delays[2] <= 200
    time_passes()
    assert attempt(app, KNOWN, password=PASSWORD, ip=ip).headers["Location"] == "/evaluations/"
    # The success clears this (login, address): the next failure starts from zero.
    attempt(app, KNOWN, ip=ip)
    assert tentatives.attente(KNOWN, ip) == 0
    journal = db.session.execute(select(AuditLog.action, AuditLog.detail, AuditLog.user_id)
                                 .order_by(AuditLog.id)).all()
    refusals = [row for row in journal if row.action == "connexion_refusee"]
    assert len(refusals) == 9 and {row.detail for row in refusals} == {KNOWN}
    assert all("Mauvais" not in (row.detail or "") for row in journal)
    assert [row.detail for row in journal if row.action == "connexion_ralentie"] == [KNOWN]
    assert ("connexion", None, world.ids[KNOWN]) in [tuple(r) for r in journal]


def outbox(email: str) -> int:
    return db.session.execute(select(func.count()).select_from(EmailMessage).where(
        EmailMessage.destinataire == email)).scalar_one()


def forgot(app, login, ip):
    client = app.test_client()
    first = client.post("/compte/mot-de-passe-oublie", data={"login": login},
                        environ_base={"REMOTE_ADDR": ip})
    page = client.get(first.headers["Location"], environ_base={"REMOTE_ADDR": ip})
    return first.status_code, first.headers["Location"], without_tokens(T(page))


def test_forgot_password_is_limited_per_account_and_per_address(app, world):
    email = f"{KNOWN}@test.fr"
    answers = [forgot(app, KNOWN, f"192.0.2.{100 + i}") for i in range(5)]
    assert outbox(email) == 3  # 3 e-mails per account an hour, whatever the address
    assert len(set(answers)) == 1  # sent or not: the same answer
    assert "Si un compte correspond à cet identifiant" in answers[0][2]
    assert forgot(app, UNKNOWN, "192.0.2.200") == answers[0]
    # One address: 10 requests an hour, unknown logins included; the 11th sends nothing.
    for i in range(9):
        forgot(app, f"inconnu{i}", "198.51.100.50")
    assert forgot(app, "certif_pro_a", "198.51.100.50") == answers[0]
    assert outbox("certif_pro_a@test.fr") == 1
    assert forgot(app, "admin_reseau_a", "198.51.100.50") == answers[0]
    assert outbox("admin_reseau_a@test.fr") == 0
    details = db.session.execute(select(AuditLog.detail).where(
        AuditLog.action == "demande_reinitialisation")).scalars().all()
    assert details.count("limite_compte") == 2 and details.count("limite_adresse") == 1
    assert f"compte inconnu : {UNKNOWN}" in details


def change(client, current, new):
    return client.post("/profil/mot-de-passe", data={"current": current, "password": new,
                                                     "confirm": new})


def test_password_policy_refuses_login_names_and_last_passwords(app, world, login):
    me = user("admin_etablissement_a")
    me.first_name, me.last_name = "Élodie", "de La Tour-Montgolfier"
    db.session.commit()
    client = login("admin_etablissement_a")
    for password in ("ELODIE-secret-2027!", "Montgolfier-2027!x", "Xadmin_Etablissement_A9!",
                     "tour-Secret-2027!"):
        response = change(client, PASSWORD, password)
        assert response.status_code == 400, password
        page = T(response)
        assert "contient votre identifiant, votre prénom ou votre nom" in page, password
        assert re.search(r'<input[^>]*name="password"[^>]*aria-invalid="true"', page)
    # « de » and « La » are too short to count.
    history = ["Delarue-Secret-2027!"]
    assert change(client, PASSWORD, history[0]).status_code == 302
    # The current password, and each of the last five, are refused.
    refused = change(client, history[0], history[0])
    assert refused.status_code == 400 and "déjà utilisé ce mot de passe" in T(refused)
    assert "déjà utilisé ce mot de passe" in T(change(client, history[0], PASSWORD))
    for i in range(1, 5):
        history.append(f"Rotation-{i}-Secret-2027!")
        assert change(client, history[i - 1], history[i]).status_code == 302
    # Last five: history[0..4]; PASSWORD (the sixth) is allowed again, history[0] is not.
    assert "déjà utilisé" in T(change(client, history[4], history[0]))
    assert change(client, history[4], PASSWORD).status_code == 302
    # The reset link's form and the creation of an account apply the same policy.
    app.test_client().post("/compte/mot-de-passe-oublie", data={"login": "admin_etablissement_a"})
    from tests.integration.test_accounts import last_link, path_of

    link = path_of(last_link("admin_etablissement_a@test.fr"))
    page = app.test_client().post(link, data={"password": history[4], "confirm": history[4]})
    assert page.status_code == 200 and "déjà utilisé ce mot de passe" in T(page)
    with pytest.raises(RuleError, match="votre prénom ou votre nom") as info:
        accounts.create_user({"username": "jdurand", "first_name": "Jérôme",
                              "last_name": "Durand", "email": "jd@of.fr",
                              "role": "certif_pro"}, by=None, password="JEROME-Secret-2027!")
    assert info.value.field == "password"
    db.session.rollback()
    actions = db.session.execute(select(AuditLog.action)).scalars().all()
    assert actions.count("changer_mot_de_passe") == 6
