"""Two-factor login in the browser: enrol on the profile (the secret read on the page, the code
computed as an authenticator app would), log out, log in with the code, then disable it."""
from __future__ import annotations

import time

import pyotp
import pytest

from tests.e2e.ui import log_out
from playwright.sync_api import expect

from tests.e2e.test_accessibility import BLOCKING

from app.services.demo import DEMO_PASSWORD

USERNAME = "admin.etablissement"  # disabled again at the end (other browser tests use it)


@pytest.fixture
def sans_double_authentification(live_app):
    """Whatever happens in the test, the demo account ends without a second factor."""
    yield
    with live_app.app_context():
        from sqlalchemy import delete, select

        from app.extensions import db
        from app.models import CodeSecours, DeuxFacteurs, Utilisateur

        user_id = db.session.execute(select(Utilisateur.id).where(
            Utilisateur.username == USERNAME)).scalar_one()
        db.session.execute(delete(CodeSecours).where(CodeSecours.user_id == user_id))
        db.session.execute(delete(DeuxFacteurs).where(DeuxFacteurs.user_id == user_id))
        db.session.commit()


def serious_violations(page) -> list[str]:
    """axe-core's serious or critical findings on the page (as in test_accessibility)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in BLOCKING]


def next_code(secret: str) -> str:
    """The code of the next 30-second step: the enrolment's code cannot be used twice."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_enrol_log_out_and_log_in_with_the_code(page, sign_in, shoot, sans_double_authentification):
    sign_in(page, USERNAME)
    page.goto("/profil/")
    page.get_by_role("tab", name="Double authentification").click()
    tab = page.get_by_role("tabpanel")
    expect(tab).to_contain_text("Non activée")
    tab.get_by_role("link", name="Activer").click()

    expect(page.locator("main h1")).to_have_text("Activer la double authentification")
    expect(page.get_by_role("img", name="QR code à scanner avec votre application "
                                         "d'authentification")).to_be_visible()
    shoot(page, "2fa-activation")
    assert serious_violations(page) == []
    secret = page.locator("#clea-2fa-secret").inner_text().replace(" ", "")
    page.get_by_label("Saisissez le code à 6 chiffres affiché par l'application").fill("000000")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    page.get_by_label("Saisissez le code à 6 chiffres affiché par l'application").fill(
        pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Activer la double authentification").click()

    expect(page.locator("main h1")).to_have_text("Vos codes de secours")
    codes = page.locator(".clea-codes-secours code").all_inner_texts()
    assert len(codes) == 10
    shoot(page, "2fa-codes-de-secours")
    assert serious_violations(page) == []
    page.get_by_role("button", name="J'ai noté mes codes").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("Activée depuis le")

    log_out(page)
    page.goto("/login/")
    page.locator("#username").fill(USERNAME)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("main h1")).to_have_text("Code de vérification")
    shoot(page, "2fa-code-de-verification")
    assert serious_violations(page) == []
    page.get_by_label("Code à 6 chiffres").fill("123456")
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("alert")).to_contain_text("Code incorrect")
    shoot(page, "2fa-code-refuse")
    page.get_by_label("Code à 6 chiffres").fill(next_code(secret))
    page.get_by_role("button", name="Valider").click()
    expect(page.locator("main h1")).to_contain_text("Bonjour")

    # back to the password alone: « Désactiver » with the password
    page.goto("/profil/?onglet=deux-facteurs")
    page.get_by_role("tabpanel").get_by_role("link", name="Désactiver").click()
    page.get_by_label("Mot de passe actuel, ou code de l'application ou de secours").fill(
        DEMO_PASSWORD)
    page.get_by_role("button", name="Désactiver").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("Non activée")
    assert not page.js_errors
