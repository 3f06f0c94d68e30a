"""Two-factor login (TOTP): enrolment on the profile, the login's « Code de vérification »
step, replayed codes, single-use recovery codes, the API login, Certif Pro's reset and
CLEA_2FA_REQUIRED."""
from __future__ import annotations

import html
import re

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditLog, CodeSecours, DeuxFacteurs, EmailMessage
from app.services import deux_facteurs
from tests.world import PASSWORD

T0 = 1_900_000_020.0  # a fixed clock, at the start of a 30-second step


@pytest.fixture
def clock(monkeypatch):
    """clock.now = seconds; the service reads it (pyotp codes are computed for the same time)."""
    class Clock:
        now = T0

    monkeypatch.setattr(deux_facteurs, "_horloge", lambda: Clock.now)
    return Clock


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def enrol(client, clock):
    """Enrol as a user does: read the secret shown on the activation page, type the code."""
    page = text(client.get("/profil/deux-facteurs/activer"))
    secret = re.search(r'id="clea-2fa-secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    response = client.post("/profil/deux-facteurs/activer",
                           data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profil/deux-facteurs/codes-de-secours")
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>",
                       text(client.get("/profil/deux-facteurs/codes-de-secours")))
    assert len(codes) == 10
    return secret, codes


def actions(user_id) -> list[str]:
    return list(db.session.execute(select(AuditLog.action).where(
        AuditLog.user_id == user_id).order_by(AuditLog.id)).scalars())


def password_step(app, username):
    client = app.test_client()
    response = client.post("/login/?next=/profil/", data={"username": username,
                                                          "password": PASSWORD})
    assert response.status_code == 302
    return client, response


def test_enrolment_with_the_code_of_the_secret_shown(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    client = login(username)
    page = text(client.get("/profil/"))
    assert "Double authentification" in page and "Non activée" in page
    page = text(client.get("/profil/deux-facteurs/activer"))
    steps = page[page.index('class="clea-2fa-etapes"'):page.index("</ol>")]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in steps  # the QR code, served by us
    assert "<script" not in steps and "onclick" not in steps and "<img" not in steps
    secret, codes = enrol(client, clock)
    row = db.session.get(DeuxFacteurs, world.ids[username])
    assert row.secret == secret and row.active_le is not None
    stored = db.session.execute(select(CodeSecours.code_hash).where(
        CodeSecours.user_id == row.user_id)).scalars().all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are stored
    assert "activer_2fa" in actions(row.user_id)
    # « J'ai noté mes codes »: they are not shown again
    assert client.post("/profil/deux-facteurs/codes-notes").status_code == 302
    response = client.get("/profil/deux-facteurs/codes-de-secours")
    assert response.status_code == 302
    assert codes[0] not in text(client.get("/profil/?onglet=deux-facteurs"))
    page = text(client.get("/profil/?onglet=deux-facteurs"))
    assert "Activée depuis le" in page and "Codes de secours restants : 10 sur 10." in page


def test_the_uri_names_the_platform_and_the_account(app, world):
    from app.models import Utilisateur

    user = db.session.get(Utilisateur, world.ids[world.usernames["admin_organisme"]])
    uri = deux_facteurs.uri(user, pyotp.random_base32())
    assert uri.startswith("otpauth://totp/Plateforme%20Cl%C3%A9A:admin_organisme_a?")
    assert "issuer=Plateforme%20Cl%C3%A9A" in uri


def test_a_wrong_code_does_not_enrol_and_says_why_in_french(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    client = login(username)
    page = text(client.get("/profil/deux-facteurs/activer"))
    secret = re.search(r'id="clea-2fa-secret">([A-Z2-7 ]+)</code>', page).group(1)
    wrong = pyotp.TOTP(secret.replace(" ", "")).at(clock.now + 300)
    response = client.post("/profil/deux-facteurs/activer", data={"code": wrong})
    assert response.status_code == 400
    assert ("Code incorrect : saisissez les 6 chiffres affichés en ce moment par votre "
            "application d'authentification.") in text(response)
    assert db.session.get(DeuxFacteurs, world.ids[username]) is None
    # the same pending secret stays on the page until it is confirmed
    assert secret in text(client.get("/profil/deux-facteurs/activer"))


def test_login_asks_for_the_code_before_opening_the_session(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    secret, _codes = enrol(login(username), clock)
    client, response = password_step(app, username)
    assert response.headers["Location"].endswith("/connexion/code")
    assert client.get("/profil/").status_code == 302  # not logged in yet
    page = text(client.get("/connexion/code"))
    assert "Code de vérification" in page and "Utiliser un code de secours" in page
    response = client.post("/connexion/code", data={"code": "000000"})
    assert response.status_code == 400
    assert "Code incorrect" in text(response)
    assert client.get("/profil/").status_code == 302
    assert actions(world.ids[username]).count("code_2fa_refuse") == 1
    clock.now += 30  # the next step's code (the enrolment used this step's)
    response = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/profil/")
    assert client.get("/profil/").status_code == 200


def test_a_code_already_used_is_refused(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    secret, _codes = enrol(login(username), clock)
    # the enrolment's own code cannot open a session
    client, _ = password_step(app, username)
    response = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 400
    assert ("Ce code a déjà été utilisé : attendez le code suivant de votre application "
            "d'authentification.") in text(response)
    clock.now += 30
    code = pyotp.TOTP(secret).at(clock.now)
    assert client.post("/connexion/code", data={"code": code}).status_code == 302
    # a second login with the same code, in the same step or the next one (window): refused
    for delay in (0, 20):
        clock.now += delay
        other, _ = password_step(app, username)
        response = other.post("/connexion/code", data={"code": code})
        assert response.status_code == 400 and "déjà été utilisé" in text(response)
        assert other.get("/profil/").status_code == 302


def test_codes_of_the_previous_and_next_step_only(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    secret, _codes = enrol(login(username), clock)
    totp = pyotp.TOTP(secret)
    clock.now += 300
    client, _ = password_step(app, username)
    assert client.post("/connexion/code", data={"code": totp.at(clock.now - 60)}).status_code == 400
    assert client.post("/connexion/code", data={"code": totp.at(clock.now + 60)}).status_code == 400
    assert client.post("/connexion/code", data={"code": totp.at(clock.now + 30)}).status_code == 302


def test_a_recovery_code_serves_once(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    _secret, codes = enrol(login(username), clock)
    client, _ = password_step(app, username)
    page = text(client.get("/connexion/code?secours=1"))
    assert "Code de secours" in page
    response = client.post("/connexion/code?secours=1", data={"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.get("/profil/").status_code == 200
    assert "code_secours_utilise" in actions(world.ids[username])
    assert "Codes de secours restants : 9 sur 10." in text(client.get("/profil/"))
    other, _ = password_step(app, username)
    response = other.post("/connexion/code?secours=1", data={"code": codes[3]})
    assert response.status_code == 400
    assert ("Code de secours incorrect ou déjà utilisé : chaque code de secours ne sert "
            "qu'une fois.") in text(response)
    assert other.get("/profil/").status_code == 302


def test_the_half_login_expires_and_allows_few_tries(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    secret, _codes = enrol(login(username), clock)
    client, _ = password_step(app, username)
    for _i in range(app.config["CLEA_2FA_MAX_TRIES"] - 1):
        assert client.post("/connexion/code", data={"code": "123456"}).status_code == 400
    response = client.post("/connexion/code", data={"code": "123456"})
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert "Trop de codes incorrects" in text(client.get("/login/"))
    # even a fresh password step (or a replayed cookie) does not give more tries for a while
    clock.now += 30
    other, _ = password_step(app, username)
    response = other.post("/connexion/code", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert other.get("/profil/").status_code == 302
    # the step lasts CLEA_2FA_LOGIN_SECONDS
    app.config["CLEA_2FA_LOGIN_SECONDS"] = 0
    late, _ = password_step(app, username)
    response = late.get("/connexion/code")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert "Votre connexion a expiré" in text(late.get("/login/"))


def test_the_api_login_needs_the_code(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    secret, codes = enrol(login(username), clock)
    api = app.test_client()
    body = {"username": username, "password": PASSWORD, "provider": "db"}
    response = api.post("/api/v1/security/login", json=body)
    assert response.status_code == 401 and "access_token" not in response.json
    assert response.json["message"].startswith("Code de vérification requis")
    response = api.post("/api/v1/security/login", json={**body, "code": "999999"})
    assert response.status_code == 401 and response.json["message"].startswith("Code incorrect")
    clock.now += 30
    code = pyotp.TOTP(secret).at(clock.now)
    response = api.post("/api/v1/security/login", json={**body, "code": code})
    assert response.status_code == 200 and response.json["access_token"]
    response = api.post("/api/v1/security/login", json={**body, "code": code})
    assert response.status_code == 401 and "déjà été utilisé" in response.json["message"]
    response = api.post("/api/v1/security/login", json={**body, "code": codes[0]})
    assert response.status_code == 200
    response = api.post("/api/v1/security/login", json={**body, "code": codes[0]})
    assert response.status_code == 401
    # an account without two-factor login logs in as before
    response = api.post("/api/v1/security/login", json={
        **body, "username": world.usernames["admin_etablissement"]})
    assert response.status_code == 200


def test_regenerate_and_disable_ask_for_the_password_or_a_code(app, world, login, clock):
    username = world.usernames["admin_organisme"]
    client = login(username)
    secret, codes = enrol(client, clock)
    client.post("/profil/deux-facteurs/codes-notes")
    response = client.post("/profil/deux-facteurs/regenerer", data={"preuve": "mauvais"})
    assert response.status_code == 400
    assert "Mot de passe ou code incorrect" in text(response)
    response = client.post("/profil/deux-facteurs/regenerer", data={"preuve": PASSWORD})
    assert response.status_code == 302
    new = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>",
                     text(client.get("/profil/deux-facteurs/codes-de-secours")))
    assert len(new) == 10 and not set(new) & set(codes)
    other, _ = password_step(app, username)
    assert other.post("/connexion/code", data={"code": codes[0]}).status_code == 400
    assert other.post("/connexion/code", data={"code": new[0]}).status_code == 302
    clock.now += 30
    response = client.post("/profil/deux-facteurs/desactiver",
                           data={"preuve": pyotp.TOTP(secret).at(clock.now)})
    assert response.status_code == 302
    assert db.session.get(DeuxFacteurs, world.ids[username]) is None
    assert not db.session.execute(select(CodeSecours).where(
        CodeSecours.user_id == world.ids[username])).first()
    done = actions(world.ids[username])
    assert {"regenerer_codes_secours", "desactiver_2fa", "code_2fa_refuse"} <= set(done)
    _client, response = password_step(app, username)
    assert response.headers["Location"].endswith("/profil/")  # the password is enough again


def test_certif_pro_resets_a_users_second_factor(app, world, login, clock):
    username = world.usernames["admin_etablissement"]
    user_id = world.ids[username]
    enrol(login(username), clock)
    certif = login(world.usernames["certif_pro"])
    fiche = text(certif.get(f"/utilisateurview/show/{user_id}"))
    assert "Réinitialiser la double authentification" in fiche
    # without the confirmation, the same question as a page; nothing changes
    response = certif.post(f"/deux-facteurs/reinitialiser/{user_id}")
    assert response.status_code == 200 and "Réinitialiser la double authentification" in text(
        response)
    assert db.session.get(DeuxFacteurs, user_id) is not None
    response = certif.post(f"/deux-facteurs/reinitialiser/{user_id}", data={"confirme": "1"})
    assert response.status_code == 302
    assert "est réinitialisée" in text(certif.get(response.headers["Location"]))
    assert db.session.get(DeuxFacteurs, user_id) is None
    mail = db.session.execute(select(EmailMessage).where(
        EmailMessage.destinataire == f"{username}@test.fr")).scalars().all()[-1]
    assert mail.sujet == "Double authentification de votre compte CléA réinitialisée"
    assert "réinitialisée par Test certif_pro" in mail.corps_texte
    assert "reinitialiser_2fa" in actions(world.ids[world.usernames["certif_pro"]])
    assert "Réinitialiser la double authentification" not in text(
        certif.get(f"/utilisateurview/show/{user_id}"))  # nothing left to reset
    _client, response = password_step(app, username)
    assert response.headers["Location"].endswith("/profil/")
    assert certif.post("/deux-facteurs/reinitialiser/999999",
                       data={"confirme": "1"}).status_code == 404


@pytest.mark.parametrize("role", ["admin_reseau", "superviseur_reseau", "admin_organisme",
                                  "admin_etablissement", "utilisateur_etablissement", "jury"])
def test_lower_roles_may_not_reset(app, world, login, clock, role):
    target = world.ids[world.usernames["utilisateur_organisme"]]
    enrol(login(world.usernames["utilisateur_organisme"]), clock)
    client = login(world.usernames[role])
    for pk in (target, world.ids[world.usernames["certif_pro"]]):
        response = client.post(f"/deux-facteurs/reinitialiser/{pk}", data={"confirme": "1"})
        assert response.status_code == 403
    assert db.session.get(DeuxFacteurs, target) is not None
    if role in ("admin_reseau", "superviseur_reseau", "admin_organisme"):  # they see the fiche
        assert "Réinitialiser la double authentification" not in text(
            client.get(f"/utilisateurview/show/{target}"))


def test_the_reset_stays_in_the_perimeter_and_below_ones_role(app, world):
    """The service's own checks (should the right be given to a perimeter-scoped role): a
    user outside the perimeter is not found, a role above is refused."""
    from werkzeug.exceptions import NotFound

    from app.models import Utilisateur
    from app.services import accounts
    from app.services.errors import ForbiddenError

    admin = db.session.get(Utilisateur, world.ids[world.usernames["superviseur_reseau"]])
    above = db.session.get(Utilisateur, world.ids[world.usernames["admin_reseau"]])
    other = accounts.create_user({"username": "etab_b1_user", "first_name": "Autre",
                                  "last_name": "Réseau", "email": "autre@b.fr",
                                  "role": "utilisateur_etablissement",
                                  "etablissement_id": world.ids["etab_b1"]}, by=None,
                                 password=PASSWORD)
    db.session.add(DeuxFacteurs(user_id=other.id, secret=pyotp.random_base32(),
                                active_le=deux_facteurs._now()))
    db.session.commit()
    with pytest.raises(ForbiddenError):
        deux_facteurs.reinitialiser(other, admin)  # the matrix: Certif Pro only
    from app.security import matrix

    original = dict(matrix.MATRIX["DeuxFacteurs"])
    matrix.MATRIX["DeuxFacteurs"]["superviseur_reseau"] = "u"
    try:
        with pytest.raises(NotFound):
            deux_facteurs.reinitialiser(other, admin)
        assert not deux_facteurs.peut_reinitialiser(other, admin)
        db.session.add(DeuxFacteurs(user_id=above.id, secret=pyotp.random_base32(),
                                    active_le=deux_facteurs._now()))
        db.session.commit()
        with pytest.raises(ForbiddenError):  # Administrateur réseau is above Superviseur
            deux_facteurs.reinitialiser(above, admin)
        assert not deux_facteurs.peut_reinitialiser(above, admin)
    finally:
        matrix.MATRIX["DeuxFacteurs"] = original
    assert db.session.get(DeuxFacteurs, other.id) is not None


@pytest.mark.parametrize("role,forced", [("certif_pro", True), ("admin_reseau", True),
                                         ("superviseur_reseau", False),
                                         ("admin_organisme", False)])
def test_required_for_certif_pro_and_admin_reseau_only(app, world, clock, role, forced):
    app.config["CLEA_2FA_REQUIRED"] = True
    username = world.usernames[role]
    client, response = password_step(app, username)
    body = {"username": username, "password": PASSWORD, "provider": "db"}
    api = app.test_client().post("/api/v1/security/login", json=body)
    if not forced:
        assert response.headers["Location"].endswith("/profil/")
        assert client.get("/utilisateurview/list/").status_code == 200
        assert api.status_code == 200
        return
    assert response.headers["Location"].endswith("/profil/deux-facteurs/activer")
    for path in ("/", "/profil/", "/evaluations/", "/utilisateurview/list/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/profil/deux-facteurs/activer")
    page = text(client.get("/profil/deux-facteurs/activer"))
    assert "La double authentification est obligatoire pour votre rôle" in page
    assert api.status_code == 401 and "obligatoire pour votre rôle" in api.json["message"]
    secret, _codes = enrol(client, clock)
    client.post("/profil/deux-facteurs/codes-notes")
    assert client.get("/utilisateurview/list/").status_code == 200
    # it cannot be disabled while required
    assert "Désactiver" not in text(client.get("/profil/?onglet=deux-facteurs"))
    response = client.post("/profil/deux-facteurs/desactiver", data={"preuve": PASSWORD})
    assert response.status_code == 302
    assert db.session.get(DeuxFacteurs, world.ids[username]) is not None
    assert client.post("/logout/").status_code == 302
