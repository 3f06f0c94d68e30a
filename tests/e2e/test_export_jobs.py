"""Exports off the request, in the browser: « Exporter (Excel) » on the Stats tab lands on
« Mes exports » with the export waiting; the worker prepares it (here in-process, as the
scheduler process would) and « Télécharger » appears without reloading the page; the file
downloads and reads back."""
from __future__ import annotations

import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from .ui import main_nav, panel_title


def test_export_prepared_in_the_background(page, sign_in, live_app, shoot, tmp_path):
    sign_in(page, "admin.reseau")
    main_nav(page).get_by_role("link", name="Stats").click()
    page.get_by_role("button", name="Exporter (Excel)").click()
    expect(panel_title(page)).to_have_text("Mes exports")
    expect(page).to_have_url(re.compile(r"/exports/$"))
    row = page.locator("tr.clea-export-job").first
    expect(row).to_contain_text("Parcours des dossiers")
    expect(row).to_contain_text("En attente")
    expect(row.locator("progress")).to_be_visible()
    expect(row.get_by_role("link", name="Télécharger")).to_have_count(0)
    shoot(page, "mes-exports-en-attente")

    result = live_app.test_cli_runner().invoke(args=["clea", "exports"])
    assert result.exit_code == 0, result.output

    link = row.get_by_role("link", name="Télécharger")
    expect(link).to_be_visible(timeout=15_000)  # polled by clea.js, no reload
    expect(row).to_contain_text("Prête")
    expect(row.locator("progress")).to_have_attribute("value", "100")
    shoot(page, "mes-exports-pret")
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "parcours.xlsx"
    download.value.save_as(path)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["Export", "Parcours", "Indicateurs"]
    header = next(book["Parcours"].iter_rows(values_only=True))
    assert header[:4] == ("N° de dossier", "Nom de naissance", "Nom d'usage", "Prénom(s)")
    assert len(list(book["Parcours"].iter_rows(values_only=True))) > 1
