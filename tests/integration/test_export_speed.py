"""The parcours export, made fast (issue 14): its workbook reads back cell for cell as
expected, every sheet (« Parcours » computed here independently from the dossiers, their
evaluations, history, decisions, hours and certificate; « Indicateurs » from the Stats
page's own figures, services/stats.indicateurs), on SQLite and on PostgreSQL, where the rows
are read by a thread of their own while they are written; and the statements it sends do
not grow with the rows: a fixed number, plus one per batch of BATCH dossiers read and one
progress update per batch written."""
from __future__ import annotations

import datetime as dt
import decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Certificat
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Evaluation, Formation, ResultatEvaluation
from app.models.jury import DecisionJury
from app.models.referentiel import Domaine, SousDomaine
from app.services import candidatures, exports, stats
from app.services.certification import DECISIONS
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier
from tests.integration.test_stats import OF_A, jeu  # noqa: F401  (the fixture)
from tests.world import user

ADMIN = "admin_reseau_a"


def _jour(value):
    """A date as openpyxl reads a date cell back (a datetime at midnight)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, dt.datetime) else value
    return dt.datetime.combine(day, dt.time.min)


def attendu_parcours(ids: list[int]) -> list[tuple]:
    """The rows of « Parcours », dossier by dossier, from the objects (no export code)."""
    sous_domaines = db.session.scalars(select(SousDomaine).join(Domaine).order_by(
        Domaine.referentiel_id, Domaine.ordre, SousDomaine.ordre)).all()
    rows = []
    for c in db.session.scalars(select(Candidature).where(Candidature.id.in_(ids))
                                .order_by(Candidature.id)):
        evals = db.session.scalars(select(Evaluation).where(
            Evaluation.candidature_id == c.id, Evaluation.statut == "finalisee")).all()
        pre = [e.finalisee_le for e in evals if e.type == "prealable"]
        fin = [e.finalisee_le for e in evals if e.type == "finale" and e.resultat == "valide"]
        envoi = [h.le for h in db.session.scalars(select(HistoriqueStatut).where(
            HistoriqueStatut.candidature_id == c.id, HistoriqueStatut.vers == "attente_jury",
            HistoriqueStatut.de == "a_envoyer"))]
        decisions = db.session.scalars(select(DecisionJury).where(
            DecisionJury.candidature_id == c.id).order_by(DecisionJury.id)).all()
        decidees = [d.le for d in decisions if d.decision != "complement"]
        heures = sum((decimal.Decimal(str(f.duree_heures)) for f in db.session.scalars(
            select(Formation).where(Formation.candidature_id == c.id))), decimal.Decimal(0))
        derniere = max(evals, key=lambda e: e.id) if evals else None
        resultats = {r.sous_domaine_id: r.acquis for r in db.session.scalars(select(
            ResultatEvaluation).where(ResultatEvaluation.evaluation_id == derniere.id))
        } if derniere else {}
        certificat = db.session.scalar(select(Certificat.numero).where(
            Certificat.candidature_id == c.id))
        rows.append((
            c.id, c.candidat.nom_naissance.upper(), c.candidat.nom_usage or "",
            c.candidat.prenoms, _jour(c.candidat.date_naissance), c.candidat.email or "",
            c.etablissement.organisme.raison_sociale, c.etablissement.nom,
            str(candidatures.TYPES_PUBLIC.get(c.type_public, "")), c.niveau_formation,
            str(candidatures.STATUTS[c.statut]), _jour(c.created_on),
            _jour(min(pre)) if pre else None, _jour(max(fin)) if fin else None,
            _jour(min(envoi)) if envoi else None, _jour(max(decidees)) if decidees else None,
            {"prealable": "préalable", "finale": "finale"}[derniere.type] if derniere else "",
            {"valide": "Validé", "non_valide": "Non validé"}.get(
                derniere.resultat, "") if derniere else "",
            float(heures), str(DECISIONS[decisions[-1].decision]) if decisions else "",
            certificat or "",
            *({True: "Acquis", False: "Non acquis", None: None}[resultats.get(sd.id)]
              for sd in sous_domaines)))
    return rows


def attendu_indicateurs(ind: stats.Indicateurs) -> list[tuple]:
    """« Indicateurs »: the Stats page's figures, in the sheet's layout."""
    lignes = [("Dossiers", ind.total), (), ("Dossiers par statut",),
              *((label, n) for _c, label, n in ind.par_statut), (),
              ("Flux mensuels", "Créés", "Préalables", "Finales", "Envoyés", "Certifiés"),
              *((m["mois"], m["crees"], m["prealables"], m["finales"], m["envoyes"],
                 m["certifies"]) for m in ind.flux), (),
              ("Préalables validées du premier coup (%)", ind.taux_premier_coup,
               ind.prealables_valides, ind.prealables_finalises), (),
              ("Taux d'acquisition par sous-domaine (%)", "Préalable", "Finale"),
              *((f"{a['code']} {a['intitule']}", a["prealable"], a["finale"])
                for a in ind.acquisition), (),
              ("Durées médianes (jours)", "Médiane", "Dossiers"), *ind.durees]
    for titre, rows in (("Décisions du jury", ind.jury), ("Abandons par motif", ind.abandons),
                        ("Habilitations par état", ind.habilitations)):
        lignes += [(), (titre,), *((label, n) for _c, label, n in rows)]
    return lignes


def _cellule(value):
    """A value as it reads back from the file: numbers as numbers (floats), an empty text
    as an empty cell."""
    if value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def tel_que_lu(rows) -> list[tuple]:
    return [tuple(_cellule(v) for v in row) for row in rows]


def lire(path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    try:
        return {name: [tuple(row) for row in book[name].iter_rows(values_only=True)]
                for name in book.sheetnames}
    finally:
        book.close()


def _sans_vides(row: tuple) -> tuple:
    """A row read back without its trailing empty cells (a sheet is as wide as its header)."""
    row = list(row)
    while row and row[-1] is None:
        row.pop()
    return tuple(row)


def enrichir(world, jeu):  # noqa: F811
    """Hours of training (a decimal one), an unanswered result, more dossiers."""
    d2 = jeu["d2"]
    for heures in (12.5, 3):
        db.session.add(Formation(candidature_id=d2.id, intitule="Remise à niveau",
                                 organisme_formateur="GRETA", formateur="M. Martin",
                                 date_debut=dt.date(2024, 1, 8), date_fin=dt.date(2024, 2, 8),
                                 duree_heures=heures, modalite="presentiel"))
    ev = db.session.scalars(select(Evaluation).where(Evaluation.candidature_id == d2.id)).one()
    db.session.scalars(select(ResultatEvaluation).where(
        ResultatEvaluation.evaluation_id == ev.id).order_by(ResultatEvaluation.id)
    ).first().acquis = None
    db.session.commit()
    for i in range(3):
        candidatures.creer(dossier(world, nom_naissance=f"Étienne-{i}", nom_usage="Ôdé"),
                           user(OF_A), True)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_workbook_reads_back_as_expected_on_every_sheet(app, world, jeu, tmp_path):  # noqa: F811
    enrichir(world, jeu)
    admin, f = user(ADMIN), stats.Filtres()
    ids = list(db.session.scalars(exports._dossiers(admin, f)))
    path = tmp_path / "parcours.xlsx"
    with app.test_request_context():
        assert exports.exporter(admin, f, str(path)) == len(ids) == 7
        ind = stats.indicateurs(admin, f)
    sheets = lire(path)
    assert list(sheets) == ["Export", "Parcours", "Indicateurs"]
    assert sheets["Export"][1] == ("Export", "Parcours des dossiers")
    header, *rows = sheets["Parcours"]
    assert header == tuple(exports.entetes_parcours(exports._sous_domaines()))
    attendu = tel_que_lu(attendu_parcours(ids))
    assert tel_que_lu(rows) == attendu
    d2 = next(r for r in rows if r[0] == jeu["d2"].id)
    assert header[18] == "Heures de formation" and d2[18] == 15.5  # 12.5 + 3
    assert d2[21:].count(None) == 1  # the unanswered result
    resume = [_sans_vides(r) for r in sheets["Indicateurs"]]
    # the header as the writer has always written it: the first record's keys (the other
    # columns are filled below it all the same)
    assert resume[0] == ("Indicateur", "Valeur")
    assert tel_que_lu(resume[1:]) == [_sans_vides(r) for r in tel_que_lu(
        attendu_indicateurs(ind))]


def reads_user(statement: str) -> bool:
    """The user and their roles, loaded again after a commit expired them: not the export's."""
    return "ab_role" in statement or statement.startswith("SELECT ab_user.")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_statements_do_not_grow_with_the_rows(app, world, jeu, count_queries,  # noqa: F811
                                              monkeypatch, tmp_path):
    admin, f = user(ADMIN), stats.Filtres()

    def export(name) -> tuple[int, list[str]]:
        db.session.expire_all()  # as in the worker: each export starts from a fresh session
        with app.test_request_context(), count_queries() as counter:
            n = exports.exporter(admin, f, str(tmp_path / name), lambda faites: None)
        return n, [s for s in counter.statements if not reads_user(s)]

    few, few_statements = export("a.xlsx")
    for i in range(20):
        candidatures.creer(dossier(world, nom_naissance=f"Extra{i}"), user(OF_A), True)
    many, many_statements = export("b.xlsx")
    assert (few, many) == (4, 24)
    assert len(many_statements) == len(few_statements)  # one batch: the same statements

    monkeypatch.setattr(exports, "BATCH", 5)  # 24 rows: 5 batches, the last one short
    progress = []
    db.session.expire_all()
    with app.test_request_context(), count_queries() as counter:
        assert exports.exporter(admin, f, str(tmp_path / "c.xlsx"), progress.append) == 24
    batched = [s for s in counter.statements if not reads_user(s)]
    assert progress == [5, 10, 15, 20]
    assert len(batched) == len(few_statements) + 4  # one more per batch read
    assert lire(tmp_path / "c.xlsx")["Parcours"] == lire(tmp_path / "b.xlsx")["Parcours"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("panne", ["lecture", "indicateurs", "ecriture"])
def test_a_failure_anywhere_fails_the_export_and_leaves_no_thread(app, world, jeu,  # noqa: F811
                                                                  monkeypatch, tmp_path, panne):
    """On PostgreSQL the rows are read by one thread and written by another while the
    indicators are read: whichever fails (the batches' statement, the indicators, the
    writer), the export raises that error, every thread it started has ended and the
    connections are back in the pool; the session then serves as before."""
    import threading

    admin, f = user(ADMIN), stats.Filtres()
    monkeypatch.setattr(exports, "BATCH", 2)

    class Panne(Exception):
        pass

    def casse(*_args, **_kwargs):
        raise Panne(panne)

    if panne == "lecture":
        monkeypatch.setattr(exports, "_formateur", lambda *_a: casse)
    elif panne == "indicateurs":
        monkeypatch.setattr(exports, "indicateurs", casse)
    else:
        monkeypatch.setattr(exports, "ecrire", casse)
    avant = {t.name for t in threading.enumerate()}
    with app.test_request_context(), pytest.raises(Exception) as raised:
        exports.exporter(admin, f, str(tmp_path / "x.xlsx"))
    chain, error = [], raised.value
    while error is not None:  # raised as it is, or as the cause of the writer's error
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, Panne) for e in chain)
    assert not {t.name for t in threading.enumerate()} - avant
    assert db.engine.pool.checkedout() <= 1  # the test's own session at most
    assert db.session.scalar(select(Candidature.id).limit(1)) is not None
