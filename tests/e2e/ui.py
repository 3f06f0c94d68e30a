"""Locators and gestures shared by the browser tests (what a user looks at and does)."""
from __future__ import annotations


def main_nav(page):
    """The top navigation bar (<nav aria-label="Navigation principale">)."""
    return page.get_by_role("navigation", name="Navigation principale")


def gestion_menu(page):
    """The "Gestion" dropdown of the navigation bar (absent when the role has no menu)."""
    return main_nav(page).locator("li.dropdown").filter(
        has=page.locator("> a.dropdown-toggle", has_text="Gestion"))


def panel_title(page):
    """Title of the first panel of the page: "Mes organismes", "Créer un établissement"..."""
    return page.locator("main .panel-heading .panel-title").first


def choose_select2(page, field_id: str, option: str) -> None:
    """Pick an option of a Select2 field the way a user does: open it, click the option."""
    page.locator(f"#{field_id} + .select2 .select2-selection").click()
    page.locator(".select2-results__option", has_text=option).click()


def confirmation(page):
    """The confirmation dialog that irreversible steps open (clea.js, one for the platform)."""
    return page.locator("dialog#clea-confirm-dialog")


def confirm(page, label: str) -> None:
    """Answer the confirmation dialog with its confirm button (`label`), as a user does."""
    from playwright.sync_api import expect

    dialog = confirmation(page)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=label, exact=True).click()


def log_out(page) -> None:
    """Log out as a user does: /logout/ asks, its button logs out (a POST with the token);
    a visitor is sent to the login page at once."""
    page.goto("/logout/")
    button = page.get_by_role("button", name="Se déconnecter")
    if button.count():
        button.click()
        page.wait_for_load_state("load")


def programmer_session(page, day, lieu: str, membres=()) -> None:
    """Certif Pro programmes a présentiel session of the Île-de-France jury on `day` from
    « Sessions de jury », with `membres` (name only) typed in the form's rows."""
    from playwright.sync_api import expect

    page.goto("/jury/")
    page.get_by_role("link", name="Programmer une session").click()
    expect(panel_title(page)).to_have_text("Programmer une session de jury")
    form = page.locator("main form")
    form.locator("#certificateur_id").select_option(label="Transitions Pro Île-de-France")
    form.locator("#date_session").fill(day.isoformat())
    form.locator("#date_limite").fill(day.isoformat())
    form.locator("#mode").select_option("presentiel")
    form.locator("#lieu").fill(lieu)
    for i, nom in enumerate(membres):
        form.locator(f"#membre_nom_{i}").fill(nom)
