"""Issue 15, bulk import (services/imports.py): 1 000 rows, 10 of them faulty, checked by the
rules of one creation; the report read back line by line; the valid rows created in one
transaction, or none with « tout ou rien »; the template's columns follow the habilitations."""
from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models.candidature import Candidature, HistoriqueStatut
from app.services import candidatures, imports
from app.services.errors import RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import etablissement, user

OF = "utilisateur_etablissement_a"
ENTETES = ["Civilité", "Nom de naissance", "Prénom(s)", "Date de naissance",
           "Commune de naissance", "Statut à l'inscription", "Objectif professionnel",
           "Objectif extra-professionnel", "Code postal", "Certificat papier (oui / non)"]
PRO = "Reprendre un emploi dans la logistique après une reconversion."
EXTRA = "Gagner en autonomie dans les démarches du quotidien."
LIGNES = imports.LIGNES_MAX


def ligne(i: int) -> list:
    return ["Mme" if i % 2 else "Madame", f"Importé{i:04d}", "Élodie",
            (dt.date(1970, 1, 1) + dt.timedelta(days=i)).strftime("%d/%m/%Y"), "Lyon",
            "Demandeur d'emploi" if i % 3 else "demandeur_emploi", PRO, EXTRA, "69001",
            "oui" if i % 5 == 0 else "non"]


def classeur(rows: list[list], entetes=ENTETES) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(entetes)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Candidature))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_thousand_rows_ten_faulty(app, world):
    habiliter(world, "etab_a1")
    deja = candidatures.creer(dossier(world, nom_naissance="Existant", prenoms="Paul",
                                      date_naissance="1980-02-02"), user(OF))
    rows = [ligne(i) for i in range(1000)]
    faults = {  # row index → (field refused, what the reason says)
        3: ("date_naissance", "Date invalide : 31/02/1980 (format attendu JJ/MM/AAAA)"),
        50: ("prenoms", "Prénom(s)"),
        120: ("civilite", "Civilité inconnue"),
        200: ("nom_naissance", "Doublon de la ligne 12"),
        333: ("nom_naissance", "existe déjà sur la plateforme"),
        404: ("objectif_pro", "au moins"),
        500: ("statut_inscription", "Statut à l'inscription inconnu"),
        640: ("code_postal", "Code postal invalide"),
        777: ("certificat_papier", "oui ou non attendu"),
        901: ("date_naissance", "au moins 16 ans"),
    }
    rows[3][3] = "31/02/1980"
    rows[50][2] = ""
    rows[120][0] = "Docteur"
    rows[200][1:4] = rows[10][1:4]  # the same person as row 10 (file line 12)
    rows[333][1:4] = ["Existant", "Paul", "02/02/1980"]
    rows[404][6] = "Court"
    rows[500][5] = "Retraité"
    rows[640][8] = "6900"
    rows[777][9] = "peut-être"
    rows[901][3] = dt.date.today().strftime("%d/%m/%Y")
    etab = etablissement(world, "etab_a1")
    lues = imports.lire(etab, "candidats.xlsx", classeur(rows))
    assert len(lues) == 1000 and lues[0][0] == 2
    rapport = imports.valider(etab, lues, user(OF))
    refusees = {ligne.numero - 2: ligne for ligne in rapport if not ligne.valide}
    assert set(refusees) == set(faults), sorted(refusees)
    for index, (champ, raison) in faults.items():
        assert refusees[index].champ == champ, (index, refusees[index])
        assert raison in refusees[index].motif, (index, refusees[index].motif)
    assert sum(ligne.valide for ligne in rapport) == 990
    # people read the file's header, programs the field's code
    assert imports.ligne_dict(refusees[50])["colonne"] == "Prénom(s)"
    assert imports.ligne_dict(refusees[50])["champ"] == "prenoms"

    before = count()
    with pytest.raises(RuleError, match="rien n'est importé"):
        imports.importer(etab, rapport, user(OF), tout_ou_rien=True)
    assert count() == before

    bilan = imports.importer(etab, rapport, user(OF))
    assert len(bilan.crees) == 990 and bilan.refusees == 10
    assert count() == before + 990
    created = db.session.scalars(select(Candidature).where(
        Candidature.id.in_(bilan.crees[:5]))).all()
    assert all(c.statut == "attente_eval_prealable" and c.etablissement_id == etab.id
               for c in created)
    assert db.session.scalar(select(func.count()).select_from(HistoriqueStatut).where(
        HistoriqueStatut.candidature_id.in_(bilan.crees))) == 990
    papier = db.session.scalar(select(func.count()).select_from(Candidature).where(
        Candidature.id.in_(bilan.crees), Candidature.certificat_papier.is_(True)))
    assert papier == len([i for i in range(0, 1000, 5) if i not in faults])  # every fifth
    assert deja.id not in bilan.crees
    # validated again, the same file now finds every person on the platform
    again = imports.valider(etab, lues, user(OF))
    assert sum(ligne.valide for ligne in again) == 0


def test_a_csv_with_semicolons_and_the_columns_of_the_habilitations(app, world):
    habiliter(world, "etab_a1")
    etab = etablissement(world, "etab_a1")
    texte = ";".join(ENTETES) + "\n" + ";".join(map(str, ligne(1))) + "\n;;;\n"
    lues = imports.lire(etab, "candidats.csv", texte.encode("utf-8-sig"))
    assert len(lues) == 1 and lues[0][1]["date_naissance"] == "02/01/1970"
    (seule,) = imports.valider(etab, lues, user(OF))
    assert seule.valide and seule.identite["date_naissance"] == dt.date(1970, 1, 2)
    # without a branche habilitation, no branche columns in the template, and refused
    template = load_workbook(io.BytesIO(imports.modele(etab)))
    headers = [c.value for c in template["Candidatures"][1]]
    assert "Nom de naissance" in headers and "Branche délégataire" not in headers
    assert template["Aide"]["A1"].value == "Colonne"
    with pytest.raises(RuleError, match="habilités pour une branche"):
        imports.lire(etab, "c.xlsx", classeur([ligne(1) + ["PROPRETE"]],
                                              ENTETES + ["Branche délégataire"]))
    with pytest.raises(RuleError, match="Colonne inconnue"):
        imports.lire(etab, "c.xlsx", classeur([ligne(1) + ["x"]], ENTETES + ["Pointure"]))
    with pytest.raises(RuleError, match="Colonnes obligatoires absentes"):
        imports.lire(etab, "c.xlsx", classeur([ligne(1)[:3]], ENTETES[:3]))
    with pytest.raises(RuleError, match=".xlsx ou .csv"):
        imports.lire(etab, "c.pdf", b"%PDF-1.4")


def _file(rows) -> tuple:
    return (io.BytesIO(classeur(rows)), "candidats.xlsx")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_api_two_steps_for_its_owner_only(app, world, api_token):
    habiliter(world, "etab_a1")
    rows = [ligne(i) for i in range(20)]
    rows[4][2] = ""          # no first name
    rows[9][3] = "hier"      # no date
    client, headers = app.test_client(), api_token(OF)
    etab = world.ids["etab_a1"]
    template = client.get(f"/api/v1/candidature/import/modele?etablissement_id={etab}",
                          headers=headers)
    assert template.status_code == 200 and load_workbook(io.BytesIO(template.data)).sheetnames
    checked = client.post("/api/v1/candidature/import", headers=headers, data={
        "etablissement_id": str(etab), "fichier": _file(rows)},
        content_type="multipart/form-data")
    assert checked.status_code == 200, checked.json
    report = checked.json
    assert (report["lignes"], report["valides"], report["refusees"]) == (20, 18, 2)
    refused = {row["ligne"]: row for row in report["rapport"] if row["statut"] == "refusee"}
    assert set(refused) == {6, 11} and refused[6]["champ"] == "prenoms"
    assert "Date invalide" in refused[11]["motif"]
    before = count()
    # nothing created yet; another user does not see the import
    assert count() == before
    other = api_token("admin_reseau_b")
    assert client.get(f"/api/v1/candidature/import/{report['id']}",
                      headers=other).status_code in (403, 404)
    assert client.post(f"/api/v1/candidature/import/{report['id']}/confirmer",
                       headers=other, json={}).status_code in (403, 404)
    assert client.get(f"/api/v1/candidature/import/{report['id']}",
                      headers=headers).json["valides"] == 18
    refusal = client.post(f"/api/v1/candidature/import/{report['id']}/confirmer",
                          headers=headers, json={"tout_ou_rien": True})
    assert refusal.status_code == 400 and "rien n'est importé" in refusal.json["message"]
    assert count() == before
    done = client.post(f"/api/v1/candidature/import/{report['id']}/confirmer",
                       headers=headers, json={})
    assert done.status_code == 201, done.json
    assert done.json["crees"] == 18 and len(done.json["ids"]) == 18
    assert count() == before + 18
    # confirmed once: the kept file is gone
    assert client.post(f"/api/v1/candidature/import/{report['id']}/confirmer",
                       headers=headers, json={}).status_code == 404
    # a file or an établissement missing, or outside the perimeter: French refusals
    missing = client.post("/api/v1/candidature/import", headers=headers,
                          data={"etablissement_id": str(etab)},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.json["field"] == "fichier"
    outside = client.post("/api/v1/candidature/import", headers=headers, data={
        "etablissement_id": str(world.ids["etab_b1"]), "fichier": _file(rows)},
        content_type="multipart/form-data")
    assert outside.status_code == 404


def test_screen_journey(app, world, login):
    habiliter(world, "etab_a1")
    rows = [ligne(i) for i in range(12)]
    rows[7][0] = "Docteur"
    client = login(OF)
    listing = client.get("/evaluations/").get_data(as_text=True)
    assert "Importer des candidatures" in listing
    page = client.get("/evaluations/import/")
    assert page.status_code == 200 and "Vérifier le fichier" in page.get_data(as_text=True)
    etab = world.ids["etab_a1"]
    template = client.get(f"/evaluations/import/modele?etablissement_id={etab}")
    assert template.status_code == 200
    checked = client.post("/evaluations/import/", data={
        "etablissement_id": str(etab), "fichier": _file(rows),
        "csrf_token": ""}, content_type="multipart/form-data")
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "12 lignes vérifiées" in text and "11 valides" in text and "1 refusée" in text
    assert "Civilité inconnue" in text and "Importer 11 dossiers" in text
    ident = re.search(r"/evaluations/import/([0-9a-f]{32})/confirmer", text).group(1)
    report = client.get(f"/evaluations/import/{ident}/rapport")
    sheet = load_workbook(io.BytesIO(report.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Ligne", "Candidat", "Statut", "Colonne", "Motif"]
    assert values[8][:4] == [9, "Importé0007 Élodie", "Refusée", "Civilité"]
    assert "<td>Civilité</td>" in text  # the refused rows' table names the file's column
    before = count()
    done = client.post(f"/evaluations/import/{ident}/confirmer", data={"csrf_token": ""},
                       follow_redirects=True)
    assert "11 dossiers créés. 1 ligne refusée n'a pas été importée." in html.unescape(
        done.get_data(as_text=True))
    assert count() == before + 11


# --- files that are malformed, too long, or not quite the template ---------------------------

def _poster(client, headers, etab: int, contenu: bytes, nom: str):
    return client.post("/api/v1/candidature/import", headers=headers, data={
        "etablissement_id": str(etab), "fichier": (io.BytesIO(contenu), nom)},
        content_type="multipart/form-data")


def _csv(rows: list[list], entetes=ENTETES) -> bytes:
    return "\n".join(";".join(map(str, row)) for row in [entetes, *rows]).encode("utf-8")


def _refus(answer) -> tuple:
    """What the user reads of a refused file: the status, the French message, the field."""
    return answer.status_code, answer.json.get("message"), answer.json.get("field")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_api_cells_too_long(app, world, api_token):
    """A cell past csv's own limit (128 Kio) makes the .csv unreadable: a 400 that says which
    row, never a 500. A cell under it but longer than its column takes is refused on its row,
    by the column's name, before the services see it (PostgreSQL refused an address over 255
    characters at the confirmation: a 500 after a report that said « valide »)."""
    habiliter(world, "etab_a1")
    client, headers, etab = app.test_client(), api_token(OF), world.ids["etab_a1"]
    rows = [ligne(i) for i in range(3)]
    rows[1][6] = "x" * 200_000
    assert _refus(_poster(client, headers, etab, _csv(rows), "candidats.csv")) == (
        400, "Ce fichier CSV ne peut pas être lu : la ligne 3 a une cellule beaucoup trop "
             "longue (2 000 caractères au plus) ou un guillemet qui n'est pas refermé.",
        "fichier")
    # the same cell in an .xlsx (where a cell holds 32 767 characters at most) is read, and
    # refused on its row
    checked = _poster(client, headers, etab, classeur(rows), "candidats.xlsx")
    assert checked.status_code == 200, checked.json
    refused = {row["ligne"]: row for row in checked.json["rapport"]
               if row["statut"] == "refusee"}
    assert set(refused) == {3} and refused[3]["champ"] == "objectif_pro"
    assert refused[3]["motif"] == ("« Objectif professionnel » : cellule trop longue "
                                   "(32 767 caractères, 2 000 au plus).")

    entetes = ENTETES + ["Adresse"]
    rows = [ligne(i) + ["1 rue de la Paix"] for i in range(4)]
    rows[0][6] = PRO + "x" * 2_000               # 2 062 characters
    rows[1][10] = "12 avenue " + "a" * 246       # 256 characters: the column keeps 255
    rows[2][1] = "N" * 101                       # a birth name keeps 100
    rows[3][10] = "9 place " + "b" * 247         # 255: kept
    checked = _poster(client, headers, etab, _csv(rows, entetes), "candidats.csv")
    assert checked.status_code == 200, checked.json
    report = {row["ligne"]: row for row in checked.json["rapport"]}
    assert [report[n]["statut"] for n in (2, 3, 4, 5)] == ["refusee"] * 3 + ["valide"]
    assert (report[2]["champ"], report[2]["colonne"], report[2]["motif"]) == (
        "objectif_pro", "Objectif professionnel",
        "« Objectif professionnel » : cellule trop longue (2 062 caractères, 2 000 au plus).")
    assert (report[3]["champ"], report[3]["colonne"], report[3]["motif"]) == (
        "adresse", "Adresse", "« Adresse » : cellule trop longue (256 caractères, 255 au plus).")
    assert (report[4]["champ"], report[4]["motif"]) == (
        "nom_naissance",
        "« Nom de naissance » : cellule trop longue (101 caractères, 100 au plus).")
    assert len(report[4]["nom"]) == 80 and report[4]["nom"].endswith("…")
    before = count()
    done = client.post(f"/api/v1/candidature/import/{checked.json['id']}/confirmer",
                       headers=headers, json={})
    assert done.status_code == 201, done.json
    assert done.json["crees"] == 1 and count() == before + 1


def _feuille(contenu: bytes, changer) -> bytes:
    """The same .xlsx, a valid zip, its first sheet's XML changed by `changer`."""
    source, out = zipfile.ZipFile(io.BytesIO(contenu)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = changer(data)
            copy.writestr(item, data)
    return out.getvalue()


def test_api_unreadable_files(app, world, api_token):
    """A broken sheet inside a valid .xlsx (read lazily, row by row), a .csv with NUL bytes:
    the French 400 on the file, never a 500. A .csv with the old Mac line ending (a lone
    carriage return) is read."""
    habiliter(world, "etab_a1")
    client, headers, etab = app.test_client(), api_token(OF), world.ids["etab_a1"]
    rows = [ligne(i) for i in range(40)]
    excel = ("Ce fichier Excel ne peut pas être lu : enregistrez-le au format .xlsx et "
             "recommencez.")
    tronque = _feuille(classeur(rows), lambda xml: xml[:len(xml) // 2])
    assert _refus(_poster(client, headers, etab, tronque, "candidats.xlsx")) == (
        400, excel, "fichier")
    assert _refus(_poster(client, headers, etab, b"PK\x03\x04 not a zip",
                          "candidats.xlsx")) == (400, excel, "fichier")
    nuls = "\x00".join(_csv(rows[:2]).decode()).encode()  # UTF-16 read as UTF-8
    assert _refus(_poster(client, headers, etab, nuls, "candidats.csv")) == (
        400, "Ce fichier CSV ne peut pas être lu : il contient des caractères nuls. "
             "Enregistrez-le en « CSV UTF-8 » et recommencez.", "fichier")
    mac = _poster(client, headers, etab, _csv(rows[:3]).replace(b"\n", b"\r"),
                  "candidats.csv")
    assert mac.status_code == 200, mac.json
    assert (mac.json["lignes"], mac.json["valides"]) == (3, 3)


def test_blank_rows_do_not_count_and_no_row_is_dropped(app, world, monkeypatch):
    """5 blank rows then 10 000 candidates: the 10 000 are read (the reader used to stop at
    10 002 physical rows and dropped the last 4 without a word); one more candidate and the
    file is refused. Nor is a row past a sheet's wrong declared dimension dropped. A .csv past
    the limit is read no further than the row past it (here a quote never closed follows,
    that would make the file unreadable)."""
    habiliter(world, "etab_a1")
    etab = etablissement(world, "etab_a1")
    rows = [[]] * 5 + [ligne(i) for i in range(LIGNES)]
    lues = imports.lire(etab, "candidats.xlsx", classeur(rows))
    assert len(lues) == LIGNES and (lues[0][0], lues[-1][0]) == (7, LIGNES + 6)
    assert lues[-1][1]["nom_naissance"] == f"Importé{LIGNES - 1:04d}"
    with pytest.raises(RuleError, match="^Le fichier a plus de 10 000 lignes : découpez-le.$"):
        imports.lire(etab, "candidats.xlsx", classeur(rows + [ligne(LIGNES)]))
    # a sheet whose declared dimension is wrong (some programs write « A1 »): every row read
    faux = _feuille(classeur(rows[5:12]), lambda xml: re.sub(rb'<dimension ref="[^"]*"',
                                                              b'<dimension ref="A1:J2"', xml))
    assert b'ref="A1:J2"' in zipfile.ZipFile(io.BytesIO(faux)).read("xl/worksheets/sheet1.xml")
    assert [n for n, _ in imports.lire(etab, "candidats.xlsx", faux)] == list(range(2, 9))
    monkeypatch.setattr(imports, "LIGNES_MAX", 3)
    texte = _csv([[], *[ligne(i) for i in range(4)]]) + b'\n"' + b"x" * 200_000
    with pytest.raises(RuleError, match="^Le fichier a plus de 3 lignes : découpez-le.$"):
        imports.lire(etab, "candidats.csv", texte)



def test_api_blank_rows_and_the_limit(app, world, api_token, monkeypatch):
    """What the user sees of the same rule (the limit lowered to 20 to keep the test short):
    every candidate under the blank rows is in the report, or the file is refused."""
    habiliter(world, "etab_a1")
    monkeypatch.setattr(imports, "LIGNES_MAX", 20)
    client, headers, etab = app.test_client(), api_token(OF), world.ids["etab_a1"]
    rows = [[]] * 5 + [ligne(i) for i in range(20)]
    checked = _poster(client, headers, etab, classeur(rows), "candidats.xlsx")
    assert checked.status_code == 200, checked.json
    assert (checked.json["lignes"], checked.json["valides"]) == (20, 20)
    assert [row["ligne"] for row in checked.json["rapport"]] == list(range(7, 27))
    assert _refus(_poster(client, headers, etab, classeur(rows + [ligne(20)]),
                          "candidats.xlsx")) == (
        400, "Le fichier a plus de 20 lignes : découpez-le.", "fichier")


def test_api_headers_refused(app, world, api_token):
    """A column twice (whatever its case or accents), a header that is a number, an empty
    first sheet, headers and no candidate, a .csv in Latin-1: each a French 400 on the file."""
    habiliter(world, "etab_a1")
    client, headers, etab = app.test_client(), api_token(OF), world.ids["etab_a1"]
    rows = [ligne(i) for i in range(3)]
    deux_fois = (400, "La colonne « Nom de naissance » apparaît deux fois : gardez-en une.",
                 "fichier")
    assert _refus(_poster(client, headers, etab, classeur(
        [row + ["Autre"] for row in rows], ENTETES + ["NOM DE NAISSANCE"]),
        "candidats.xlsx")) == deux_fois
    assert _refus(_poster(client, headers, etab, _csv(
        [row + ["Autre"] for row in rows], ENTETES + ["nom de naissance"]),
        "candidats.csv")) == deux_fois
    assert _refus(_poster(client, headers, etab, classeur(
        [row + ["x"] for row in rows], ENTETES + [2024]), "candidats.xlsx")) == (
        400, "Colonne inconnue : « 2024 ». Partez du modèle téléchargeable.", "fichier")
    book = Workbook()  # the first sheet empty, the candidates on the second
    second = book.create_sheet("Candidats")
    for row in [ENTETES, *rows]:
        second.append(row)
    out = io.BytesIO()
    book.save(out)
    vide = (400, "Le fichier est vide : partez du modèle téléchargeable.", "fichier")
    assert _refus(_poster(client, headers, etab, out.getvalue(), "candidats.xlsx")) == vide
    assert _refus(_poster(client, headers, etab, b"", "candidats.csv")) == vide
    aucune = (400, "Le fichier n'a aucune ligne de candidat sous ses en-têtes.", "fichier")
    assert _refus(_poster(client, headers, etab, classeur([[], []]), "candidats.xlsx")) == aucune
    assert _refus(_poster(client, headers, etab, _csv([]), "candidats.csv")) == aucune
    assert _refus(_poster(client, headers, etab, _csv(rows).decode().encode("latin-1"),
                          "candidats.csv")) == (
        400, "Ce fichier CSV n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 » et "
             "recommencez.", "fichier")


def test_the_report_writes_names_as_texts_never_formulas(app):
    """A name typed as « =HYPERLINK(…) » would become a live formula in the report someone
    downloads (openpyxl stores a text starting with « = » as a formula)."""
    with app.test_request_context():
        book = load_workbook(io.BytesIO(imports.rapport_xlsx([{
            "ligne": 2, "nom": '=HYPERLINK("http://exemple.invalid","x")', "statut": "refusee",
            "motif": "Civilité inconnue.", "champ": "civilite"}])))
    cell = book.active["B2"]
    assert cell.value == '=HYPERLINK("http://exemple.invalid","x")' and cell.data_type == "s"


def test_a_tab_separated_csv_is_read_too(app, world):
    """A spreadsheet's « texte (séparateur : tabulation) » gave « Colonne inconnue » for the
    whole header, read as one column."""
    habiliter(world, "etab_a1")
    etab = etablissement(world, "etab_a1")
    texte = "\t".join(ENTETES) + "\n" + "\t".join(str(v) for v in ligne(1)) + "\n"
    (lue,) = imports.lire(etab, "candidats.csv", texte.encode("utf-8"))
    assert lue[1]["nom_naissance"] == "Importé0001" and lue[1]["civilite"] == "Mme"
