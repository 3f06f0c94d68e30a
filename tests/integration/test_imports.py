"""Issue 15, bulk import (services/imports.py): 1 000 rows, 10 of them faulty, checked by the
rules of one creation; the report read back line by line; the valid rows created in one
transaction, or none with « tout ou rien »; the template's columns follow the habilitations."""
from __future__ import annotations

import datetime as dt
import io

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
        3: ("date_naissance", "Date invalide"),
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
