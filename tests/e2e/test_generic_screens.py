"""What a user sees on the generated management screens (Gestion): French filter operators, a
delete modal that names the record with French buttons, native (browser-localised) dates, no
« __None », a save that lands on the record's page, the eye with its label, one h1 per page,
the habilitations' « État » filter on French states, and type-to-search selects that put the
cursor in their search box (Enter picks nothing the user did not type or choose)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _browser_required
from .ui import panel_title

# Chromium's French interface strings and date formats (Debian package chromium-l10n).
FRENCH_PAK = Path("/usr/lib/chromium/locales/fr.pak")


@pytest.fixture
def news_cleanup(live_app):
    """The actualités a test publishes are removed afterwards: later tests (the home page's
    accessibility check among them) see the demo's home page."""
    from app.extensions import db
    from app.models import Actualite

    with live_app.app_context():
        before = db.session.query(db.func.max(Actualite.id)).scalar() or 0
    yield
    with live_app.app_context():
        db.session.query(Actualite).filter(Actualite.id > before).delete()
        db.session.commit()


def open_filter(page, column_label: str):
    """« Rechercher » → « Ajouter un filtre » → the column: returns the new filter's row."""
    search = page.locator("main a.accordion-toggle", has_text="Rechercher")
    search.click()
    page.get_by_role("button", name="Ajouter un filtre").click()
    page.locator("#filter_form a.filter", has_text=column_label).click()
    row = page.locator("#filter_form table.filters tr").last
    expect(row).to_contain_text(column_label)
    return row


def open_select2(page, row, index: int):
    """Open the index-th Select2 of a filter row (0: the operator, 1: the value)."""
    row.locator(".select2-selection").nth(index).click()
    options = page.locator(".select2-container--open .select2-results__option")
    expect(options.first).to_be_visible()
    return options


def test_filter_operators_are_french(page, sign_in, shoot):
    sign_in(page, "certifpro")
    page.goto("/etablissementview/list/")
    row = open_filter(page, "Nom de l'établissement")
    options = open_select2(page, row, 0)
    expect(options).to_have_text([
        "Commence par", "Se termine par", "Contient", "Égal à", "Ne commence pas par",
        "Ne se termine pas par", "Ne contient pas", "Différent de", "Parmi", "Hors de"])
    shoot(page, "filtre-operateurs")
    page.keyboard.press("Escape")
    # A number-like date column offers « Inférieur à », accented.
    page.goto("/habilitationview/list/")
    row = open_filter(page, "Fin")
    expect(open_select2(page, row, 0)).to_have_text(
        ["Égal à", "Supérieur à", "Inférieur à", "Différent de"])
    assert page.js_errors == []


def test_etat_filter_offers_french_states_and_filters(page, sign_in, shoot):
    sign_in(page, "certifpro")
    page.goto("/habilitationview/list/")
    row = open_filter(page, "État")
    expect(open_select2(page, row, 0)).to_have_text(["Égal à", "Différent de"])
    page.keyboard.press("Escape")
    values = open_select2(page, row, 1)
    expect(values).to_have_text(["En attente", "Validée", "Rejetée", "Expirée"])
    shoot(page, "filtre-etat")
    values.filter(has_text="Validée").click()
    page.locator("#filter_form").get_by_role("button", name="Rechercher").click()

    expect(page).to_have_url(re.compile(r"_flt_0_statut=validee"))
    table = page.locator("main table.table-bordered")  # the list (the filters' table is hover too)
    expect(table.locator("thead th", has_text="État")).to_be_visible()  # the new page is there
    etat = table.locator("thead th").all_inner_texts().index("État")
    cells = table.locator(f"tbody tr td:nth-child({etat + 1})")
    expect(cells.first).to_be_visible()
    assert set(cells.all_inner_texts()) == {"Validée"}
    names = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert "FORMAPLUS Paris" in names and "FORMAPLUS Créteil" not in names  # en attente
    shoot(page, "filtre-etat-resultat")
    assert page.js_errors == []


def test_delete_modal_names_the_record_in_french(page, sign_in, live_app, shoot,
                                                 news_cleanup):
    from app.extensions import db
    from app.models import Actualite
    from app.services import actualites

    with live_app.app_context():
        item = actualites.create({"titre": "Fermeture estivale", "texte": "Du 1er au 15 août."},
                                 None)
        pk = item.id
    sign_in(page, "certifpro")
    page.goto("/actualiteview/list/")
    bin_ = page.get_by_role("link", name="Supprimer Fermeture estivale")
    expect(bin_.locator("i.fa-trash")).to_have_count(1)
    bin_.click()
    modal = page.get_by_role("dialog", name="Confirmer la suppression")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("Supprimer l'actualité « Fermeture estivale » ?")
    expect(modal.get_by_role("button", name="Annuler")).to_be_visible()
    expect(modal.get_by_role("link", name="Supprimer")).to_be_visible()
    expect(modal).not_to_contain_text("Cancel")
    shoot(page, "suppression-modale")
    modal.get_by_role("button", name="Annuler").click()
    expect(modal).to_be_hidden()
    with live_app.app_context():
        assert db.session.get(Actualite, pk) is not None

    bin_.click()
    expect(modal).to_be_visible()
    modal.get_by_role("link", name="Supprimer").click()
    expect(page.locator(".clea-flashes")).to_contain_text("Enregistrement supprimé.")
    expect(page.locator("main")).not_to_contain_text("Fermeture estivale")
    with live_app.app_context():
        db.session.expire_all()
        assert db.session.get(Actualite, pk) is None
    assert page.js_errors == []


def test_dates_are_native_french_inputs_and_a_save_lands_on_the_record(page, sign_in, shoot,
                                                                       news_cleanup):
    sign_in(page, "certifpro")
    page.goto("/actualiteview/add")
    assert page.evaluate("document.documentElement.lang") == "fr"
    publie = page.get_by_label("Publiée le")
    expect(publie).to_have_attribute("type", "date")  # the browser shows JJ/MM/AAAA in French
    publie.click()
    expect(page.locator(".datepicker")).to_have_count(0)  # FAB's English picker is gone
    page.get_by_label("Titre").fill("Session de jury de décembre")
    page.get_by_label("Texte").fill("Inscriptions ouvertes.")
    publie.fill("2030-12-01")
    page.get_by_label("Expire le").fill("2030-12-31")
    shoot(page, "actualite-dates")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    expect(page).to_have_url(re.compile(r"/actualiteview/show/\d+$"))
    expect(panel_title(page)).to_have_text("Actualité")
    fiche = page.locator("main table")
    expect(fiche).to_contain_text("01/12/2030")
    expect(fiche).to_contain_text("31/12/2030")
    expect(fiche).not_to_contain_text("2030-12-01")
    # Its edit form gives the same date back to the browser's date field.
    page.get_by_role("link", name="Modifier", exact=True).click()
    expect(page.get_by_label("Publiée le")).to_have_value("2030-12-01")
    page.get_by_label("Titre").fill("Session de jury du 21 décembre")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page).to_have_url(re.compile(r"/actualiteview/show/\d+$"))
    expect(page.locator(".clea-flashes")).to_contain_text("Modifications enregistrées.")
    expect(page.locator("main table")).to_contain_text("Session de jury du 21 décembre")
    assert page.js_errors == []


def test_saving_an_edit_opens_the_record(page, sign_in, shoot):
    sign_in(page, "admin.reseau")
    page.goto("/etablissementview/list/")
    page.get_by_role("link", name="Modifier LA BOETIE Grenoble").click()
    expect(panel_title(page)).to_have_text("Modifier l'établissement")
    edit_url = page.url
    page.get_by_label("Contact (téléphone)").fill("04 76 00 00 00")
    page.get_by_role("button", name="Enregistrer", exact=True).click()

    pk = re.search(r"/edit/(\d+)", edit_url).group(1)
    expect(page).to_have_url(re.compile(rf"/etablissementview/show/{pk}$"))
    expect(panel_title(page)).to_have_text("Visualiser l'établissement")
    expect(page.locator(".clea-flashes")).to_contain_text("Modifications enregistrées.")
    expect(page.locator("main #Home table")).to_contain_text("04 76 00 00 00")
    shoot(page, "apres-modification")


def test_no_none_option_in_selects(page, sign_in, shoot):
    sign_in(page, "certifpro")
    page.goto("/organismeview/add")
    expect(page.locator("#select2-reseau-container")).to_have_text(re.compile("— Aucun —"))
    page.locator("#reseau + .select2 .select2-selection").click()
    options = page.locator(".select2-container--open .select2-results__option")
    expect(options.first).to_have_text("— Aucun —")
    assert "__None" not in " ".join(options.all_inner_texts())
    shoot(page, "select-aucun")
    page.keyboard.press("Escape")
    assert "__None" not in page.locator("main").inner_text()


def test_lists_show_the_eye_pencil_and_bin_with_labels(page, sign_in, shoot):
    sign_in(page, "certifpro")
    page.goto("/etablissementview/list/")
    eye = page.get_by_role("link", name="Visualiser FORMAPLUS Paris")
    expect(eye.locator("i.fa-eye")).to_have_count(1)
    eye.hover()  # the guide's word, as a tooltip (Bootstrap moves the title into it)
    expect(page.get_by_role("tooltip")).to_have_text("Visualiser")
    expect(page.get_by_role("link", name="Modifier FORMAPLUS Paris").locator("i.fa-pencil")
           ).to_have_count(1)
    expect(page.locator("main .clea-crud i.fa-search")).to_have_count(0)
    shoot(page, "liste-oeil-crayon-corbeille")
    eye.click()
    expect(page).to_have_url(re.compile(r"/etablissementview/show/\d+$"))
    expect(page.locator("main #Home table")).to_contain_text("FORMAPLUS Paris")


def test_one_h1_on_list_show_and_edit_pages(page, sign_in):
    sign_in(page, "certifpro")
    page.goto("/organismeview/list/")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Mes organismes")
    page.get_by_role("link", name="Visualiser FORMAPLUS").click()
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Fiche organisme")
    page.goto(page.url.replace("/show/", "/edit/"))
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Modifier l'organisme")
    page.goto("/utilisateurview/list/")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Mes utilisateurs")


def test_type_to_search_selects_focus_their_search_box(page, sign_in, shoot):
    sign_in(page, "certifpro")
    page.goto("/utilisateurview/add")
    page.locator("#role + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_focused()
    page.keyboard.type("Jury")
    expect(page.locator(".select2-container--open .select2-results__option")).to_have_text(
        ["Jury"])
    page.keyboard.press("Enter")
    expect(page.locator("#role")).to_have_value("jury")

    # The certificateur (search-as-you-type, served by /lookup): Enter alone picks nothing.
    page.locator("#certificateur_id + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_be_focused()
    expect(page.locator(".select2-container--open .select2-results__option").first
           ).to_be_visible()
    shoot(page, "recherche-certificateur-ouverte")
    page.keyboard.press("Enter")
    expect(page.locator("#certificateur_id")).to_have_value("")
    expect(search).to_be_visible()
    page.keyboard.type("Occitanie")
    expect(page.locator(".select2-container--open .select2-results__option")).to_have_text(
        ["Transitions Pro Occitanie"])
    page.keyboard.press("Enter")
    expect(page.locator("#select2-certificateur_id-container")).to_contain_text(
        "Transitions Pro Occitanie")
    # A choice made with the arrows is taken too.
    page.locator("#certificateur_id + .select2 .select2-selection").click()
    expect(page.locator(".select2-container--open .select2-search__field")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#certificateur_id")).not_to_have_value("")
    assert page.js_errors == []


def date_fields(page) -> list[list[tuple[str, str]]]:
    """What the browser shows in each <input type="date"> of the page, read from its
    accessibility tree: [[(segment name, value), ...] per field], e.g. [("Jour", "01"), ...]."""
    cdp = page.context.new_cdp_session(page)
    nodes = {n["nodeId"]: n for n in cdp.send("Accessibility.getFullAXTree")["nodes"]}

    def segments(node):
        for child in node.get("childIds", []):
            child = nodes.get(child)
            if child is None:
                continue
            if child.get("role", {}).get("value") == "spinbutton":
                name = child.get("name", {}).get("value", "").split()[0]
                value = child.get("value", {}).get("value")
                yield name, "" if value is None else f"{int(value):02d}"
            else:
                yield from segments(child)

    roots = [n for n in nodes.values() if n.get("role", {}).get("value") == "Date"]
    fields = [list(segments(n)) for n in roots]
    return fields


def test_dates_read_jj_mm_aaaa_in_a_french_browser(browser, live_server, live_app, shoot,
                                                   news_cleanup):
    """The same form in a browser set to French (as the OF staff's are): the date reads
    JJ/MM/AAAA, its parts named « Jour », « Mois », « Année » (no English calendar left)."""
    if not FRENCH_PAK.exists():
        message = f"{FRENCH_PAK} absent (paquet chromium-l10n) : dates françaises non vérifiées."
        if _browser_required():
            pytest.fail(message)
        pytest.skip(message)
    from app.services import actualites
    from app.services.demo import DEMO_PASSWORD

    with live_app.app_context():
        pk = actualites.create({"titre": "Jury du 1er décembre", "texte": "Convocations.",
                                "publie_le": "2030-12-01"}, None).id
    french = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + ["--lang=fr-FR"],
        env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"})
    try:
        context = french.new_context(base_url=live_server, locale="fr-FR",
                                     viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto("/login/")
        page.locator("#username").fill("certifpro")
        page.locator("#password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("main h1")).to_contain_text("Bonjour")
        page.goto(f"/actualiteview/edit/{pk}")
        expect(page.get_by_label("Publiée le")).to_have_value("2030-12-01")
        publie, expire = date_fields(page)
        assert publie == [("Jour", "01"), ("Mois", "12"), ("Année", "2030")]
        assert [name for name, _value in expire] == ["Jour", "Mois", "Année"]
        shoot(page, "dates-navigateur-francais")
        page.get_by_label("Expire le").fill("2030-12-31")
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page).to_have_url(re.compile(rf"/actualiteview/show/{pk}$"))
        expect(page.locator("main table")).to_contain_text("31/12/2030")
    finally:
        french.close()
