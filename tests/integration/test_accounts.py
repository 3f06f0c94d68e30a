"""Accounts: creation with role/perimeter rules, first-connection and reset links, login delay,
profile — each refusal in French and without any change in the database."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import AccountToken, AttemptCounter, EmailMessage, Utilisateur
from app.security import roles as R
from app.services import accounts
from app.services.errors import ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.world import PASSWORD, user


def T(response) -> str:
    """The page as a user reads it (HTML entities decoded)."""
    return html.unescape(response.get_data(as_text=True))


def users_count():
    return db.session.execute(select(func.count()).select_from(Utilisateur)).scalar_one()


def last_link(email: str) -> str:
    message = db.session.execute(
        select(EmailMessage).where(EmailMessage.destinataire == email)
        .order_by(EmailMessage.id.desc())).scalars().first()
    assert message is not None, f"no e-mail to {email}"
    return re.search(r"https?://\S+/compte/\S+", message.corps_texte).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_created_user_gets_single_use_first_connection_link(app, world, login):
    client = login(world.usernames["admin_organisme"])
    response = client.post("/utilisateurview/add", data={
        "username": "nouvelle.recrue", "first_name": "Nina", "last_name": "Recrue",
        "email": "nina@of.fr", "role": R.UTILISATEUR_ETABLISSEMENT.code,
        "etablissement_id": str(world.ids["etab_a1b"])})
    assert response.status_code == 302
    created = user("nouvelle.recrue")
    assert created.role is R.UTILISATEUR_ETABLISSEMENT
    assert created.etablissement_id == world.ids["etab_a1b"]
    message = db.session.execute(select(EmailMessage).where(
        EmailMessage.destinataire == "nina@of.fr")).scalar_one()
    assert message.sujet == "Votre compte sur la plateforme CléA"
    assert "72 heures" in message.corps_texte and message.statut == "stocke"
    link = path_of(last_link("nina@of.fr"))
    anonymous = app.test_client()
    assert anonymous.get(link).status_code == 200
    weak = anonymous.post(link, data={"password": "court", "confirm": "court"})
    assert "Mot de passe trop faible" in T(weak)
    ok = anonymous.post(link, data={"password": "Un-Mot2Passe-Solide", "confirm":
                                    "Un-Mot2Passe-Solide"})
    assert ok.status_code == 302
    assert login("nouvelle.recrue", "Un-Mot2Passe-Solide")
    reused = anonymous.post(link, data={"password": "Autre-Mot2Passe!", "confirm":
                                        "Autre-Mot2Passe!"})
    assert reused.status_code == 410
    assert "Ce lien n'est plus valide" in T(reused)


def test_expired_link_is_refused(app, world):
    target = user(world.usernames["utilisateur_etablissement"])
    accounts.send_reset_email(target, by=None)
    link = path_of(last_link(target.email))
    db.session.execute(AccountToken.__table__.update().values(
        expires_at=dt.datetime.now() - dt.timedelta(minutes=1)))
    db.session.commit()
    response = app.test_client().post(link, data={"password": "Un-Mot2Passe-Solide",
                                                  "confirm": "Un-Mot2Passe-Solide"})
    assert response.status_code == 410 and "a expiré" in T(response)
    db.session.expire_all()
    assert accounts.find_valid_token(link.rsplit("/", 1)[1]) is None


def test_forgot_password_answers_the_same_and_never_sends_a_password(app, world):
    client = app.test_client()
    known = client.post("/compte/mot-de-passe-oublie",
                        data={"login": world.usernames["admin_etablissement"]},
                        follow_redirects=True)
    unknown = client.post("/compte/mot-de-passe-oublie", data={"login": "personne"},
                          follow_redirects=True)
    message = "Si un compte correspond à cet identifiant"
    assert message in T(known) and message in T(unknown)
    mails = db.session.execute(select(EmailMessage)).scalars().all()
    assert len(mails) == 1
    assert PASSWORD not in mails[0].corps_texte and "/compte/reinitialiser/" in mails[0].corps_texte


@pytest.mark.parametrize("manager,role", [
    ("admin_etablissement", R.UTILISATEUR_ORGANISME),
    ("admin_organisme", R.ADMIN_RESEAU),
    ("superviseur_reseau", R.ADMIN_RESEAU),
    ("admin_reseau", R.CERTIF_PRO),
    ("admin_reseau", R.JURY),
])
def test_role_escalation_is_refused_in_french(app, world, login, manager, role):
    before = users_count()
    client = login(world.usernames[manager])
    response = client.post("/utilisateurview/add", data={
        "username": "escalade", "first_name": "E", "last_name": "Scalade",
        "email": "escalade@of.fr", "role": role.code,
        "reseau_id": str(world.ids["reseau_a"]), "organisme_id": str(world.ids["org_a1"])})
    assert response.status_code == 200
    assert "Not a valid choice" not in T(response)
    assert ("Vous ne pouvez pas attribuer le rôle" in T(response)
            or "Choix non valide" in T(response) or "choix" in T(response).lower())
    assert users_count() == before
    with pytest.raises(ForbiddenError, match="Vous ne pouvez pas attribuer le rôle"):
        accounts.create_user({"username": "escalade", "first_name": "E", "last_name": "S",
                              "email": "e@of.fr", "role": role.code,
                              "reseau_id": world.ids["reseau_a"],
                              "organisme_id": world.ids["org_a1"]},
                             by=user(world.usernames[manager]))
    db.session.rollback()
    assert users_count() == before


def test_api_escalation_and_other_perimeter_refused(app, world, api_token):
    client = app.test_client()
    headers = api_token(world.usernames["admin_organisme"])
    response = client.post("/api/v1/utilisateur/", headers=headers, json={
        "username": "x.y", "first_name": "X", "last_name": "Y", "email": "xy@of.fr",
        "role": "Administrateur réseau", "reseau_id": world.ids["reseau_a"]})
    assert response.status_code == 403
    assert "Vous ne pouvez pas attribuer le rôle" in response.json["message"]
    response = client.post("/api/v1/utilisateur/", headers=headers, json={
        "username": "x.y", "first_name": "X", "last_name": "Y", "email": "xy@of.fr",
        "role": "Utilisateur établissement", "etablissement_id": world.ids["etab_b1"]})
    assert response.status_code == 400, response.json
    assert "hors de votre périmètre" in response.json["message"]
    response = client.post("/api/v1/utilisateur/", headers=headers, json={
        "username": "x.y", "first_name": "X", "last_name": "Y", "email": "xy@of.fr",
        "role": "Utilisateur établissement", "etablissement_id": world.ids["etab_a1"]})
    assert response.status_code == 201 and response.json["result"]["username"] == "x.y"


@pytest.mark.parametrize("data,field,message", [
    ({"role": "Grand Chef"}, "role", "Rôle inconnu"),
    ({"email": "admin_reseau_a@test.fr"}, "email", "déjà utilisée"),
    ({"username": "admin_reseau_a"}, "username", "identifiant est déjà utilisé"),
    ({"email": "pas-un-mail"}, "email", "Adresse e-mail invalide"),
    ({"organisme_id": None}, "organisme_id", "demande de choisir l'organisme"),
])
def test_bad_user_input_changes_nothing(app, world, data, field, message):
    before = users_count()
    base = {"username": "n.ouveau", "first_name": "N", "last_name": "Ouveau",
            "email": "n@of.fr", "role": R.ADMIN_ORGANISME.code,
            "organisme_id": world.ids["org_a1"]}
    with pytest.raises(RuleError, match=message) as info:
        accounts.create_user({**base, **data}, by=user(world.usernames["admin_reseau"]))
    assert info.value.field == field
    db.session.rollback()
    assert users_count() == before


def test_weak_password_refused_everywhere(app, world, login):
    with pytest.raises(RuleError, match="au moins 12 caractères"):
        accounts.create_user({"username": "faible", "first_name": "F", "last_name": "F",
                              "email": "f@of.fr", "role": "certif_pro"}, by=None,
                             password="Court1!")
    client = login(world.usernames["admin_etablissement"])
    response = client.post("/profil/mot-de-passe", data={
        "current": PASSWORD, "password": "motdepasselong", "confirm": "motdepasselong"})
    assert response.status_code == 400
    assert "une majuscule" in T(response) and "un chiffre" in T(response)
    assert login(world.usernames["admin_etablissement"], PASSWORD)


@pytest.mark.parametrize("app_overrides", [{"CLEA_LOGIN_DELAY_SECONDS": 600}])
def test_five_failures_delay_this_address_only(app, world, login):
    """No hard lock any more: after five failures the next attempts from THAT address wait
    (the account is not locked: another address logs in)."""
    client = app.test_client()
    username = world.usernames["utilisateur_organisme"]
    for _ in range(5):
        response = client.post("/login/", data={"username": username, "password": "faux"},
                               follow_redirects=True)
    assert "Identifiant ou mot de passe incorrect" in T(response)
    response = client.post("/login/", data={"username": username, "password": PASSWORD},
                           follow_redirects=True)
    assert "Trop de tentatives de connexion depuis votre adresse" in T(response)
    assert "verrouillé" not in T(response) and "Bonjour" not in T(response)
    elsewhere = app.test_client().post("/login/", data={
        "username": username, "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert elsewhere.status_code == 302 and "/login/" not in elsewhere.headers["Location"]
    db.session.execute(update(AttemptCounter).values(
        blocked_until=dt.datetime.now() - dt.timedelta(seconds=1)))
    db.session.commit()
    assert login(username)


def test_suspend_activate_and_reset_by_manager(app, world, login):
    manager = login(world.usernames["admin_etablissement"])
    target_id = world.ids["utilisateur_etablissement_a"]
    response = manager.post(f"/utilisateurview/suspendre/{target_id}", follow_redirects=True)
    assert "est suspendu" in T(response)
    assert app.test_client().post("/login/", data={
        "username": "utilisateur_etablissement_a", "password": PASSWORD}).headers[
        "Location"].split("?")[0].endswith("/login/")
    manager.post(f"/utilisateurview/activer/{target_id}")
    response = manager.post(f"/utilisateurview/reinitialiser/{target_id}", follow_redirects=True)
    assert "Un e-mail de réinitialisation a été envoyé" in T(response)
    other = world.ids["utilisateur_etablissement_b"]
    assert manager.post(f"/utilisateurview/suspendre/{other}").status_code == 404
    boss = world.ids["admin_reseau_a"]
    assert manager.post(f"/utilisateurview/suspendre/{boss}").status_code == 404


def test_profile_update_and_network_notification_choice(app, world, login):
    client = login(world.usernames["admin_reseau"])
    response = client.post("/profil/enregistrer", data={
        "first_name": "Rachid", "last_name": "Benali", "email": "rb@reseau.fr",
        "telephone": "0102030405"}, follow_redirects=True)
    assert "Vos informations sont enregistrées" in T(response)
    me = user(world.usernames["admin_reseau"])
    db.session.refresh(me)
    assert me.email == "rb@reseau.fr" and me.telephone == "0102030405"
    taken = client.post("/profil/enregistrer", data={
        "first_name": "R", "last_name": "B", "email": "certif_pro_a@test.fr"})
    assert taken.status_code == 400 and "déjà utilisée" in T(taken)


def test_cli_create_user(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clea", "create-user", "--username", "cli.user", "--email",
                                 "cli@of.fr", "--password", "Outil-Secret-2026", "--role",
                                 "Administrateur organisme", "--organisme",
                                 str(world.ids["org_a1"])])
    assert result.exit_code == 0, result.output
    assert "créé avec le rôle « Administrateur organisme »" in result.output
    result = runner.invoke(args=["clea", "create-user", "--username", "cli.bad", "--email",
                                 "bad@of.fr", "--password", "Outil-Secret-2026", "--role",
                                 "Empereur"])
    assert result.exit_code == 1 and "Rôle inconnu" in result.output


def test_edit_form_shows_the_current_role_and_perimeter(app, world, login):
    client = login(world.usernames["admin_organisme"])
    page = T(client.get(f"/utilisateurview/edit/{world.ids['utilisateur_etablissement_a']}"))
    assert '<option selected value="utilisateur_etablissement">' in page
    assert 'selected>ETAB_A1</option>' in page
