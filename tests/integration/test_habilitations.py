"""Habilitations: every transition, who may request and decide (role × perimeter), dates,
renewal window, effect on the tabs, reminders and expiry (once, even run twice at once)."""
from __future__ import annotations

import datetime as dt
import html
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Branche, Certificateur, Notification
from app.models.habilitation import EXPIREE, REJETEE, VALIDEE, Habilitation
from app.services import accounts, habilitations
from app.services.errors import ConflictError, ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.world import PASSWORD, user

TODAY = dt.date.today()


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def ask(world, etab="etab_a1", by="admin_organisme_a", **data):
    return habilitations.demander({"etablissement_id": world.ids[etab], **data}, user(by))


def validate(hab, debut=TODAY - dt.timedelta(days=10), fin=TODAY + dt.timedelta(days=365),
             by="certif_pro_a"):
    return habilitations.decider(hab, {"decision": "validee", "date_debut": debut,
                                       "date_fin": fin}, user(by) if by else None)


def titles(username):
    return db.session.scalars(select(Notification.titre).where(
        Notification.user_id == user(username).id).order_by(Notification.id)).all()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_request_validate_and_effect(app, world, login):
    assert not habilitations.peut_evaluer(user("utilisateur_etablissement_a"))
    home = T(login("utilisateur_etablissement_a").get("/"))
    assert "n'a pas d'habilitation CléA valide" in home
    hab = ask(world)
    assert hab.statut == "en_attente"
    assert titles("certif_pro_a") == ["Nouvelle demande d'habilitation : ETAB_A1"]
    with pytest.raises(ConflictError, match="déjà en attente"):
        ask(world, by="admin_reseau_a")
    db.session.rollback()
    validate(hab)
    assert hab.statut == VALIDEE and hab.est_valide()
    assert habilitations.est_habilite(world.ids["etab_a1"])
    assert habilitations.peut_evaluer(user("utilisateur_etablissement_a"))
    assert not habilitations.peut_evaluer(user("utilisateur_etablissement_b"))
    home = T(login("utilisateur_etablissement_a").get("/"))
    assert "n'a pas d'habilitation CléA valide" not in home
    # Requester and organisme admins are told, in-app and by e-mail.
    for username in ("admin_organisme_a", "admin_reseau_a", "superviseur_reseau_a"):
        assert "Habilitation validée : ETAB_A1" in titles(username)
    assert titles("utilisateur_etablissement_a") == []
    with pytest.raises(ConflictError, match="déjà été décidée"):
        validate(hab)


def test_reject_needs_a_motive_shown_by_the_eye(app, world, login):
    hab = ask(world)
    with pytest.raises(RuleError, match="motif du rejet"):
        habilitations.decider(hab, {"decision": "rejetee", "motif": " "}, user("certif_pro_a"))
    db.session.rollback()
    habilitations.decider(hab, {"decision": "rejetee", "motif": "Locaux non conformes"},
                          user("certif_pro_a"))
    assert hab.statut == REJETEE
    page = T(login("admin_etablissement_a").get(f"/habilitationview/show/{hab.id}"))
    assert "Rejetée" in page and "Locaux non conformes" in page
    assert "Habilitation rejetée : ETAB_A1" in titles("admin_organisme_a")


def test_dates_are_checked(app, world):
    hab = ask(world)
    with pytest.raises(RuleError, match="date de fin doit être postérieure"):
        validate(hab, debut=TODAY, fin=TODAY - dt.timedelta(days=1))
    db.session.rollback()
    with pytest.raises(RuleError, match="date de début"):
        habilitations.decider(hab, {"decision": "validee", "date_fin": "2027-01-01"},
                              user("certif_pro_a"))
    db.session.rollback()
    db.session.refresh(hab)
    assert hab.statut == "en_attente"


@pytest.mark.parametrize("requester,allowed", [
    ("admin_reseau_a", True), ("superviseur_reseau_a", True), ("admin_organisme_a", True),
    ("certif_pro_a", True), ("utilisateur_organisme_a", False),
    ("admin_etablissement_a", False), ("utilisateur_etablissement_a", False),
])
def test_who_may_request(app, world, requester, allowed):
    if allowed:
        assert ask(world, by=requester).statut == "en_attente"
    else:
        with pytest.raises(ForbiddenError):
            ask(world, by=requester)


def test_other_perimeter_is_404(app, world, login, api_token):
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        ask(world, etab="etab_b1", by="admin_reseau_a")
    db.session.rollback()
    hab_b = ask(world, etab="etab_b1", by="admin_reseau_b")
    assert login("admin_reseau_a").get(f"/habilitationview/show/{hab_b.id}").status_code == 404
    response = app.test_client().post(f"/api/v1/habilitation/{hab_b.id}/decision",
                                      json={"decision": "rejetee", "motif": "x"},
                                      headers=api_token("jury_a"))  # a decider, elsewhere
    assert response.status_code == 404


def test_who_decides(app, world, api_token):
    hab = ask(world)
    client = app.test_client()
    # A réseau admin has no decision right; the Transitions Pro jury does not decide the socle.
    response = client.post(f"/api/v1/habilitation/{hab.id}/decision", json={
        "decision": "validee", "date_debut": "2026-01-01", "date_fin": "2028-01-01"},
        headers=api_token("admin_reseau_a"))
    assert response.status_code == 403
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):  # not even visible to it
        validate(hab, by="jury_a")
    db.session.rollback()
    # A branche request is decided by that branche's CPNE jury, not by Certif Pro.
    branche = db.session.execute(select(Branche)).scalar_one()
    cpne = db.session.execute(select(Certificateur).where(Certificateur.type == "cpne")
                              ).scalar_one()
    accounts.create_user({"username": "jury_cpne", "first_name": "J", "last_name": "CPNE",
                          "email": "jury.cpne@test.fr", "role": "jury",
                          "certificateur_id": cpne.id}, by=None, password=PASSWORD)
    hab_b = ask(world, portee="branche", branche_id=branche.id)
    assert titles("jury_cpne") == ["Nouvelle demande d'habilitation : ETAB_A1"]
    with pytest.raises(ForbiddenError):
        validate(hab_b, by="certif_pro_a")
    db.session.rollback()
    response = client.post(f"/api/v1/habilitation/{hab_b.id}/decision", json={
        "decision": "validee", "date_debut": "2026-01-01", "date_fin": "2025-01-01"},
        headers=api_token("jury_cpne"))
    assert response.status_code == 400
    assert "postérieure à la date de début" in response.json["message"]
    response = client.post(f"/api/v1/habilitation/{hab_b.id}/decision", json={
        "decision": "validee", "date_debut": TODAY.isoformat(),
        "date_fin": (TODAY + dt.timedelta(days=700)).isoformat()},
        headers=api_token("jury_cpne"))
    assert response.status_code == 200 and response.json["result"]["statut"] == "validee"
    again = client.post(f"/api/v1/habilitation/{hab_b.id}/decision", json={
        "decision": "rejetee", "motif": "x"}, headers=api_token("jury_cpne"))
    assert again.status_code == 409
    # The CPNE jury only sees its branche's requests.
    listing = client.get("/api/v1/habilitation/", headers=api_token("jury_cpne")).json
    assert [row["id"] for row in listing["result"]] == [hab_b.id]


def test_renewal_window(app, world, login):
    hab = ask(world)
    validate(hab, debut=TODAY - dt.timedelta(days=600), fin=TODAY + dt.timedelta(days=120))
    assert not habilitations.renouvelable(hab)
    assert "Renouveler" not in T(login("admin_organisme_a").get(
        f"/habilitationview/show/{hab.id}"))
    hab.date_fin = TODAY + dt.timedelta(days=90)
    db.session.commit()
    assert habilitations.renouvelable(hab)
    client = login("admin_organisme_a")
    assert "Renouveler" in T(client.get(f"/habilitationview/show/{hab.id}"))
    response = client.post(f"/habilitationview/renouveler/{hab.id}", follow_redirects=True)
    assert "La demande de renouvellement est envoyée" in T(response)
    renewal = db.session.execute(select(Habilitation).where(
        Habilitation.renouvellement_de_id == hab.id)).scalar_one()
    assert renewal.statut == "en_attente"
    assert not habilitations.renouvelable(hab)  # one pending request at a time


def test_reminders_and_expiry(app, world):
    hab = ask(world)
    validate(hab, debut=TODAY - dt.timedelta(days=600), fin=TODAY + dt.timedelta(days=80))
    assert habilitations.echeances()["rappel_90"] == 1
    assert habilitations.echeances() == {"rappel_90": 0, "rappel_30": 0, "expirees": 0}
    later = TODAY + dt.timedelta(days=55)
    assert habilitations.echeances(later)["rappel_30"] == 1
    assert habilitations.echeances(TODAY + dt.timedelta(days=81))["expirees"] == 1
    db.session.refresh(hab)
    assert hab.statut == EXPIREE
    assert titles("admin_organisme_a")[-3:] == [
        "Habilitation à renouveler : ETAB_A1", "Habilitation à renouveler : ETAB_A1",
        "Habilitation expirée : ETAB_A1"]


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_expiry_job_run_twice_at_once_works_once(app, world):
    for key in ("etab_a1", "etab_a1b", "etab_a2"):
        validate(ask(world, etab=key, by="admin_reseau_a"),
                 debut=TODAY - dt.timedelta(days=800),
                 fin=TODAY - dt.timedelta(days=1))
    env = {**os.environ, "DATABASE_URL": app.config["TEST_DATABASE_URL"]}
    command = [sys.executable, "-m", "flask", "--app", "run", "clea", "run-job",
               "habilitations_echeances"]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(Habilitation).where(
        Habilitation.statut == EXPIREE)).scalar_one() == 3
    expired_notes = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.titre.like("Habilitation expirée%"),
        Notification.user_id == user("admin_reseau_a").id)).scalar_one()
    assert expired_notes == 3, outputs


def test_organisme_page_and_etablissement_tab(app, world, login):
    validate(ask(world))
    ask(world, etab="etab_a1b")
    client = login("admin_organisme_a")
    page = T(client.get(f"/organismeview/show/{world.ids['org_a1']}"))
    assert "Périodes d'habilitation par établissement" in page
    assert "ETAB_A1B" in page and "En attente" in page and "Validée" in page
    page = T(client.get(f"/etablissementview/show/{world.ids['etab_a1']}"))
    assert "Habilitation(s) en cours" in page and "Validée" in page
    response = client.post("/habilitationsetablissementview/add", data={
        "etablissement": str(world.ids["etab_a1"]), "portee": "national", "commentaire": ""})
    assert "Une demande est déjà en attente" not in T(response)  # first one was decided
    assert db.session.execute(select(func.count()).select_from(Habilitation)).scalar_one() == 3


def test_public_directory(app, world):
    validate(ask(world))
    ask(world, etab="etab_a1b")
    client = app.test_client()
    page = T(client.get("/annuaire/"))
    assert "ETAB_A1" in page and "ETAB_A1B" not in page
    assert "@" not in page.split("<main")[1].split("</main>")[0]  # no e-mail, no contact
    assert "ETAB_A1" not in T(client.get("/annuaire/?region=OCC"))
    assert "ETAB_A1" in T(client.get("/annuaire/?region=IDF"))


def test_decision_form_only_for_the_decider(app, world, login):
    hab = ask(world)
    page = T(login("certif_pro_a").get(f"/habilitationview/show/{hab.id}"))
    assert "Décision" in page and "Rejeter" in page
    assert f"/habilitationview/edit/{hab.id}" not in page
    page = T(login("admin_organisme_a").get(f"/habilitationview/show/{hab.id}"))
    assert "Rejeter" not in page and "En attente" in page
