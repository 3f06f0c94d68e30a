"""A full préalable filled with the keyboard only, the matrice downloaded then uploaded,
the evaluation finalized (Validé, 28 / 28); axe on the grid."""
from __future__ import annotations

import io

from axe_playwright_python.sync_playwright import Axe
from openpyxl import load_workbook
from playwright.sync_api import expect

from .ui import confirm, panel_title


def test_keyboard_prealable_matrice_finalize(page, sign_in, live_app, shoot, tmp_path):
    with live_app.app_context():
        from app.extensions import db
        from app.models import Etablissement
        from app.services import candidatures

        paris = db.session.query(Etablissement).filter_by(nom="FORMAPLUS Paris").one()
        cand = candidatures.creer({
            "etablissement_id": paris.id, "civilite": "Mme", "nom_naissance": "Roussel",
            "prenoms": "Inès", "date_naissance": "1979-11-02", "commune_naissance": "Lille",
            "statut_inscription": "demandeur_emploi",
            "objectif_pro": "Retrouver un emploi stable dans l'aide à domicile.",
            "objectif_extra_pro": "Accompagner ses enfants dans leur scolarité."}, by=None)
        pk = cand.id
        db.session.remove()

    sign_in(page, "utilisateur.etablissement")
    page.goto(f"/candidature/{pk}")
    page.get_by_role("button", name="Ajouter une évaluation").click()
    confirm(page, "OK")  # the preventive message, then OK
    expect(panel_title(page)).to_contain_text("Évaluation préalable")

    # Keyboard only: open every fold, choose "Acquis" with the space bar.
    for summary in page.locator("details.clea-domaine > summary").all():
        if summary.locator("xpath=..").get_attribute("open") is None:
            summary.focus()
            page.keyboard.press("Enter")
    radios = page.locator("input.clea-acquis")
    expect(radios).to_have_count(28)
    for i in range(28):
        radios.nth(i).focus()
        page.keyboard.press("Space")
    expect(page.locator("#clea-compteur")).to_have_text("28")
    page.locator("#evaluateur").focus()
    page.keyboard.type("Jeanne Évaluatrice")
    page.locator("#date_evaluation").fill("2026-11-20")
    shoot(page, "grille-evaluation")
    results = Axe().run(page)
    blocking = [v["id"] for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")]
    assert blocking == []
    page.get_by_role("button", name="Enregistrer et reprendre plus tard").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".clea-flashes")).to_contain_text("vous pourrez la reprendre plus tard")

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger la matrice").click()
    path = tmp_path / "matrice.xlsx"
    download.value.save_as(path)
    workbook = load_workbook(io.BytesIO(path.read_bytes()))
    assert workbook["Candidat"]["B4"].value == "Roussel"
    render_matrice(page.context.new_page(), workbook, shoot)
    page.locator("#nature").select_option("matrice")
    page.locator("#fichier").set_input_files(str(path))
    page.get_by_role("button", name="Déposer").click()
    expect(page.locator(".clea-flashes")).to_contain_text("déposé")
    # the flash is in the HTML before clea.js binds the confirmation: on a loaded machine an
    # early Enter submits the form to the no-script confirmation page instead of the dialog
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Finaliser l'évaluation").focus()
    page.keyboard.press("Enter")
    confirm(page, "Finaliser l'évaluation")
    expect(page.locator(".clea-flashes")).to_contain_text("Évaluation finalisée : Validé.")
    expect(page.locator("main")).to_contain_text("À envoyer en certification")
    shoot(page, "dossier-apres-finalisation")
    assert page.js_errors == []


def render_matrice(viewer, workbook, shoot):
    """Keep a picture of the downloaded matrice: its sheets drawn as HTML tables from the
    .xlsx itself (cells, bold headers, column widths), screenshotted as a test artifact."""
    from html import escape

    parts = ["<html lang='fr'><body style='font-family: Arial; font-size: 12px'>"]
    for ws in workbook.worksheets[:3]:
        parts.append(f"<h2>{escape(ws.title)}</h2><table border='1' cellspacing='0' "
                     "cellpadding='3' style='border-collapse: collapse'>")
        widths = [ws.column_dimensions[c].width or 10 for c in "ABCDEFG"]
        for row in ws.iter_rows():
            parts.append("<tr>")
            for cell, width in zip(row, widths):
                style = f"width:{int(width * 7)}px;vertical-align:top"
                if cell.font and cell.font.bold:
                    style += ";font-weight:bold"
                if cell.fill and cell.fill.fgColor and cell.fill.fgColor.rgb not in (None,
                                                                                      "00000000"):
                    style += ";background:#004b87;color:#fff"
                parts.append(f"<td style='{style}'>{escape(str(cell.value or ''))}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    viewer.set_content("".join(parts))
    shoot(viewer, "matrice-rendue")
    viewer.close()
