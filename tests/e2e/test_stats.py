"""The Stats tab in the browser: an Administrateur réseau reads the indicators of its réseau,
filters them, and asks for the Excel export, prepared in the background (« Mes exports »,
tests/e2e/test_export_jobs.py follows it to the download)."""
from __future__ import annotations

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
    page.get_by_role("button", name="Exporter (Excel)").click()
    expect(panel_title(page)).to_have_text("Mes exports")
    expect(page.locator("main")).to_contain_text("type_public=salarie")
