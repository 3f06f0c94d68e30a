"""« Télécharger la matrice »: the Excel evaluation matrix, pre-filled with the candidate and
every criterion of the référentiel version of the evaluation (openpyxl)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.page import PageMargins

from app.models.evaluation import Evaluation
from app.services.formats import en_texte

HEADER = PatternFill("solid", fgColor="004B87")
THIN = Side(style="thin", color="8899AA")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def generer(evaluation: Evaluation) -> bytes:
    candidat = evaluation.candidature.candidat
    wb = Workbook()
    ident = wb.active
    ident.title = "Candidat"
    rows = [
        ("Matrice d'évaluation CléA", ""),
        ("Référentiel", str(evaluation.referentiel)),
        ("Évaluation", "préalable" if evaluation.type == "prealable" else "finale"),
        ("Nom de naissance", candidat.nom_naissance),
        ("Nom d'usage", candidat.nom_usage or ""),
        ("Prénom(s)", candidat.prenoms),
        ("Date de naissance", candidat.date_naissance.strftime("%d/%m/%Y")),
        ("Établissement", evaluation.candidature.etablissement.nom),
        ("Évaluateur", evaluation.evaluateur or ""),
        ("Date de l'évaluation", ""),
        ("Signature de l'évaluateur", ""),
        ("Signature du bénéficiaire", ""),
    ]
    for row in rows:
        ident.append(row)
        en_texte(ident[ident.max_row])  # names typed by people: never formulas
    ident["A1"].font = Font(bold=True, size=14)
    ident.column_dimensions["A"].width = 30
    ident.column_dimensions["B"].width = 50
    for r in range(11, 13):
        ident.row_dimensions[r].height = 45
    for domaine in evaluation.referentiel.domaines:
        ws = wb.create_sheet(f"Domaine {domaine.numero}"[:31])
        ws.append([f"Domaine {domaine.numero} — {domaine.intitule}"])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append(["Sous-domaine", "Critère", "Intitulé du critère", "Acquis / Non acquis",
                   "Date", "Signature évaluateur", "Signature bénéficiaire"])
        for cell in ws[2]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = HEADER
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.border = BORDER
        for sous in domaine.sous_domaines:
            for critere in sous.criteres:
                ws.append([f"{sous.code} {sous.intitule}", critere.code, critere.intitule,
                           "", "", "", ""])
                for cell in ws[ws.max_row]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                    cell.border = BORDER
        for column, width in zip("ABCDEFG", (28, 9, 60, 18, 12, 20, 20)):
            ws.column_dimensions[column].width = width
        ws.print_title_rows = "2:2"
        ws.print_area = f"A1:G{ws.max_row}"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.freeze_panes = "A3"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
