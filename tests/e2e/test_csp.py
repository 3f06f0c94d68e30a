"""The Content-Security-Policy runs no inline script (issue 13, finding 10): every main screen
of several roles, with its scripts at work (filters, Select2, the profile pop-up, the grid's
counters, a tab of our own, the confirmation dialog), under a policy whose script-src has no
'unsafe-inline', without one CSP violation or console error. FAB's inline blocks carry the
request's nonce; ours are static files (static/clea/clea.js)."""
from __future__ import annotations

import json
import re

import pytest

from playwright.sync_api import expect

from .test_generic_screens import open_filter, open_select2
from .test_grid import _evaluation
from .ui import choose_select2, confirmation, log_out, panel_title

WATCH = """
window.cleaCspCount = 0;
document.addEventListener("securitypolicyviolation", function (e) {
    window.cleaCspCount += 1;
    window.cleaCspViolation(JSON.stringify({
        directive: e.effectiveDirective || e.violatedDirective, blocked: e.blockedURI,
        source: e.sourceFile, line: e.lineNumber, sample: e.sample, page: location.pathname}));
});
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations, console errors and warnings, and every document's
    policy; `assert_clean(page)` checks them at the end of the walk."""
    page.csp_violations, page.console_problems, page.policies = [], [], {}
    page.context.expose_function("cleaCspViolation",
                                 lambda report: page.csp_violations.append(json.loads(report)))
    page.context.add_init_script(WATCH)

    def on_console(msg):
        where = msg.location.get("url") or ""
        # A page without <link rel="icon"> makes Chromium ask /favicon.ico: not a script.
        if msg.type in ("error", "warning") and not where.endswith("/favicon.ico"):
            page.console_problems.append(f"{msg.type}: {msg.text} ({where})")
    page.on("console", on_console)

    def on_response(response):
        if response.request.resource_type == "document":
            page.policies[response.url] = response.headers.get("content-security-policy", "")
    page.on("response", on_response)
    return page


def assert_clean(page) -> None:
    assert page.policies, "no page visited"
    for url, policy in page.policies.items():
        script_src = next((d.split()[1:] for d in policy.split(";")
                           if d.split() and d.split()[0] == "script-src"), None)
        assert script_src is not None, f"{url}: no script-src in « {policy} »"
        assert "'unsafe-inline'" not in script_src, f"{url}: {policy}"
        assert "'unsafe-eval'" not in script_src, f"{url}: {policy}"
    assert page.csp_violations == []
    assert page.console_problems == []
    assert page.js_errors == []


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")


def _sign_in(page, sign_in, username: str) -> None:
    log_out(page)
    sign_in(page, username)


def _dossier_en_session(live_app) -> int:
    """A dossier examined by a jury in the demo data (the certified one of LA BOETIE Lyon)."""
    with live_app.app_context():
        from app.extensions import db
        from app.models.candidature import Candidature

        pk = db.session.query(Candidature.id).filter(
            Candidature.session_jury_id.isnot(None)).order_by(Candidature.id).first()[0]
        db.session.remove()
    return pk


def _numero_certificat(live_app) -> str:
    with live_app.app_context():
        from app.extensions import db
        from app.models.jury import Certificat

        numero = db.session.query(Certificat.numero).order_by(Certificat.id).first()[0]
        db.session.remove()
    return numero


def test_login_page_and_anonymous_screens(watched, live_app):
    visit(watched, "/login/")
    expect(watched.locator("#username")).to_be_visible()
    visit(watched, f"/verifier/{_numero_certificat(live_app)}")
    expect(watched.locator("main")).to_contain_text("Certificat valide")
    assert_clean(watched)


def test_certif_pro_walk(watched, sign_in, live_app, shoot):
    page = watched
    sign_in(page, "certifpro")
    visit(page, "/")
    visit(page, "/evaluations/")
    expect(page.locator("main")).to_contain_text("Évaluations")

    # A generated list with its filters (ab_filters.js, Select2).
    visit(page, "/etablissementview/list/")
    row = open_filter(page, "Nom de l'établissement")
    expect(open_select2(page, row, 0).first).to_be_visible()
    page.keyboard.press("Escape")

    # Add and edit forms with Select2 and the role → perimeter switch (clea.js).
    visit(page, "/utilisateurview/add")
    choose_select2(page, "role", "Administrateur établissement")
    expect(page.locator("main")).to_contain_text("Établissement")
    visit(page, "/organismeview/add")
    page.locator("#reseau + .select2 .select2-selection").click()
    expect(page.locator(".select2-container--open .select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")
    visit(page, "/organismeview/list/")
    page.locator("main table a[href*='/organismeview/edit/']").first.click()
    expect(page.locator("main form#model_form")).to_be_visible()

    # The organisme's « Habilitations » tab, added by clea.js (an inline script before).
    visit(page, "/organismeview/list/")
    page.locator("main table a[href*='/organismeview/show/']").first.click()
    tab = page.locator("ul.nav-tabs a[href='#Habilitations']")
    expect(tab).to_have_text("Habilitations")
    tab.click()
    expect(page.locator("#Habilitations")).to_contain_text("Périodes d'habilitation par établissement")

    # The profile pop-up (loaded by clea.js, posted in place).
    page.locator("#clea-user-menu").click()
    page.get_by_role("link", name="Mon profil").click()
    expect(page.get_by_role("dialog", name="Mon profil")).to_be_visible()
    page.keyboard.press("Escape")

    visit(page, "/stats/")
    visit(page, "/jury/")
    visit(page, "/jury/nouvelle")
    pk = _dossier_en_session(live_app)
    visit(page, f"/jury/dossier/{pk}")
    page.locator("main a[href*='/jury/session/']").first.click()
    expect(page.locator("main")).to_contain_text("Session")
    visit(page, "/envois/")
    visit(page, "/habilitationview/list/")
    visit(page, "/notifications/")
    shoot(page, "csp-certif-pro")
    assert_clean(page)


def test_etablissement_dossier_and_grid(watched, sign_in, live_app):
    page = watched
    pk, _tailles = _evaluation(live_app, "Cspontaine")
    sign_in(page, "utilisateur.etablissement")
    visit(page, "/")
    visit(page, "/evaluations/")
    visit(page, f"/evaluation/{pk}")
    expect(panel_title(page)).to_contain_text("Évaluation préalable")
    page.locator("details#domaine-1 input[type=radio]").first.check()
    expect(page.locator("#clea-renseignes")).to_have_text("1")
    page.get_by_role("button", name="Finaliser l'évaluation").click()
    expect(confirmation(page)).to_be_visible()
    page.keyboard.press("Escape")

    link = page.locator("main a[href*='/candidature/']").first
    dossier = re.search(r"/candidature/\d+", link.get_attribute("href")).group(0)
    visit(page, dossier)
    expect(page.locator("main")).to_contain_text("CSPONTAINE")
    visit(page, "/candidature/nouvelle")
    assert_clean(page)


@pytest.mark.parametrize("username", ["jury", "admin.reseau", "admin.organisme"])
def test_other_roles_home_and_menus(watched, sign_in, open_gestion, username):
    page = watched
    sign_in(page, username)
    visit(page, "/")
    if username == "jury":
        visit(page, "/jury/")
    else:
        open_gestion(page)
        visit(page, "/etablissementview/list/")
        visit(page, "/utilisateurview/list/")
        visit(page, "/stats/")
    assert_clean(page)


def test_policy_blocks_injected_inline_code(watched):
    """What an injected fragment would try: an inline handler, an inline <script> without
    the nonce and a javascript: link. None runs, and each is reported as a violation."""
    page = watched
    visit(page, "/login/")
    page.evaluate("""() => {
        const button = document.createElement("button");
        button.id = "piege"; button.type = "button";
        button.setAttribute("onclick", "window.cleaPiege = 'handler'");
        document.body.appendChild(button);
        const link = document.createElement("a");
        link.id = "lien-piege"; link.textContent = "piège";
        link.setAttribute("href", "javascript:window.cleaPiege='url'");
        document.body.appendChild(link);
        const script = document.createElement("script");
        script.textContent = "window.cleaPiege = 'script'";
        document.body.appendChild(script);
    }""")
    page.locator("#piege").click()
    page.locator("#lien-piege").click()
    page.wait_for_function("() => window.cleaCspCount >= 3")
    assert page.evaluate("() => window.cleaPiege") is None
    assert len(page.csp_violations) >= 3, page.csp_violations
    assert {v["directive"] for v in page.csp_violations} <= {"script-src-elem", "script-src-attr",
                                                             "script-src"}
