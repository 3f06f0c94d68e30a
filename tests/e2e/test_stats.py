"""The Stats tab in the browser: an Administrateur réseau reads the indicators of its réseau,
filters them, and downloads the Excel export (progress shown while it is prepared)."""
from __future__ import annotations

from openpyxl import load_workbook
from playwright.sync_api import expect

from .ui import main_nav, panel_title


def test_stats_and_export(page, sign_in, shoot, tmp_path):
    sign_in(page, "admin.reseau")
    main_nav(page).get_by_role("link", name="Stats").click()
    expect(panel_title(page)).to_have_text("Statistiques et exports")
    expect(page.locator("main")).to_contain_text("Dossiers par statut")
    expect(page.locator("main svg[role=img]").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Export de facturation par organisme")
    shoot(page, "statistiques")
    page.locator("#type_public").select_option("salarie")
    page.get_by_role("button", name="Appliquer les filtres").click()
    expect(page).to_have_url(__import__("re").compile(r"type_public=salarie"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter (Excel)").click()
    path = tmp_path / "parcours.xlsx"
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Parcours", "Indicateurs"]
    header = next(book["Parcours"].iter_rows(values_only=True))
    assert header[:4] == ("N° de dossier", "Nom de naissance", "Nom d'usage", "Prénom(s)")
    expect(page.locator(".clea-export-progress")).to_be_hidden()
