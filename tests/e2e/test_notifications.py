"""Notification centre in the browser: a decision on an account (Certif Pro moves a user to
another établissement) notifies that user; the bell shows 1, the arrow opens the action and
the bell goes back to 0."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .ui import choose_select2, panel_title


def bell_count(page):
    return page.locator("#clea-bell .clea-bell-count")


def test_decision_notifies_bell_arrow_then_zero(page, sign_in, shoot, live_app):
    with live_app.app_context():  # earlier journeys (certification) notified this user too
        from sqlalchemy import update

        from app.extensions import db
        from app.models import Notification, Utilisateur

        user_id = db.session.query(Utilisateur.id).filter_by(
            username="utilisateur.etablissement").scalar()
        db.session.execute(update(Notification).where(Notification.user_id == user_id)
                           .values(lu=True))
        db.session.commit()
        db.session.remove()
    sign_in(page, "certifpro")
    page.goto("/utilisateurview/list/?_flt_0_username=utilisateur.etablissement")
    row = page.locator("main table tr", has_text="utilisateur.etablissement")
    row.locator("a[href*='/utilisateurview/edit/']").click()
    expect(panel_title(page)).to_have_text("Modifier l'utilisateur")
    choose_select2(page, "etablissement_id", "FORMAPLUS Créteil")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".clea-flashes")).to_contain_text("Modifications enregistrées")
    page.locator("#clea-user-menu").click()
    page.get_by_role("button", name="Déconnexion").click()

    sign_in(page, "utilisateur.etablissement")
    expect(bell_count(page)).to_have_text("1")
    page.locator("#clea-bell").click()
    item = page.locator(".clea-bell-menu button", has_text="Votre rôle ou votre périmètre a changé")
    expect(item).to_be_visible()
    shoot(page, "cloche-notification")
    page.get_by_role("link", name="Voir toutes les notifications").click()
    expect(panel_title(page)).to_have_text("Mes notifications")
    row = page.locator("main table tbody tr", has_text="Votre rôle ou votre périmètre a changé")
    expect(row).to_contain_text("FORMAPLUS Créteil")
    expect(row).to_contain_text("Comptes")
    shoot(page, "notifications")
    row.get_by_role("button", name="Ouvrir « Votre rôle ou votre périmètre a changé »").click()
    expect(page).to_have_url(re.compile(r"/profil/$"))
    expect(bell_count(page)).to_have_text("0")
    page.goto("/notifications/")
    expect(page.locator("main")).to_contain_text("Aucune notification")
    page.goto("/notifications/?lu=oui")
    expect(page.locator("main table")).to_contain_text("Votre rôle ou votre périmètre a changé")
    assert page.js_errors == []
