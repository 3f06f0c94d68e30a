"""Each demo account logs in through the login page, sees exactly the "Gestion" menu its role
allows (security/matrix.py is the single source), and logs out from the user menu."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.security import matrix
from app.services.demo import DEMO_USERS

from .ui import gestion_menu, main_nav

ACCOUNTS = [pytest.param(role, username, id=username) for role, username, *_ in DEMO_USERS]


def menu_labels(role, category=matrix.CATEGORY_GESTION) -> tuple[list[str], list[str]]:
    """(labels the role must see in a category, in menu order; labels it must not see)."""
    items = [item for item in matrix.MENU if item.category == category]
    shown = [str(item.label) for item in items if matrix.menu_visible(role, item)]
    hidden = [str(item.label) for item in items if str(item.label) not in shown]
    return shown, hidden


def tabs_open(live_app, username) -> bool:
    """Whether the user's perimeter holds a valid habilitation (Évaluations tab)."""
    with live_app.app_context():
        from app.extensions import db
        from app.models import Utilisateur
        from app.services.habilitations import peut_evaluer

        user = db.session.query(Utilisateur).filter_by(username=username).one()
        try:
            return peut_evaluer(user)
        finally:
            db.session.remove()


def test_login_page_is_french(page, shoot):
    page.goto("/login/")
    expect(page).to_have_title(re.compile("Plateforme CléA"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à la plateforme CléA")
    expect(page.get_by_label("Identifiant", exact=True)).to_be_visible()
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Mot de passe oublié")).to_be_visible()
    expect(main_nav(page)).not_to_contain_text("Gestion")
    shoot(page, "connexion")


@pytest.mark.parametrize("role, username", ACCOUNTS)
def test_menu_follows_the_matrix_and_logout(page, sign_in, open_gestion, shoot, role, username,
                                            live_app):
    sign_in(page, username)
    expect(page.locator("main h1")).to_contain_text("Bonjour")
    que = "qu'" if role.name.startswith(("Administrateur", "Utilisateur")) else "que "  # elision
    expect(page.locator("main")).to_contain_text(f"Vous êtes connecté en tant {que}{role.name}")
    expect(page.locator("#clea-user-menu")).to_contain_text(f"({role.name})")

    nav = main_nav(page)
    shown, hidden = menu_labels(role)
    if shown:
        menu = open_gestion(page)
        expect(menu.locator("> .dropdown-menu > li > a")).to_have_text(shown)
    else:
        expect(gestion_menu(page)).to_have_count(0)
        expect(nav).not_to_contain_text("Gestion")
    for label in hidden:
        expect(nav).not_to_contain_text(label)
    evaluations = nav.locator("li.dropdown").filter(
        has=page.locator("> a.dropdown-toggle", has_text="Évaluations"))
    shown_eval, _hidden = menu_labels(role, matrix.CATEGORY_EVALUATIONS)
    if shown_eval and tabs_open(live_app, username):
        evaluations.locator("> a.dropdown-toggle").click()
        expect(evaluations.locator("> .dropdown-menu > li > a")).to_have_text(shown_eval)
        evaluations.locator("> a.dropdown-toggle").click()
    else:
        expect(evaluations).to_have_count(0)
    shoot(page, f"accueil-{username}")

    page.locator("#clea-user-menu").click()
    page.locator("#clea-user-menu + .dropdown-menu").get_by_role("button", name="Déconnexion").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à la plateforme CléA")
    # The session is over: the home page sends back to the login page.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    assert page.js_errors == []
