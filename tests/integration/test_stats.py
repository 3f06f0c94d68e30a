"""Statistics and exports: every indicator against a hand-computed fixture, the perimeter on
indicators and exports (a réseau admin never sees another réseau's numbers), filters, the
export read back with openpyxl, Certif Pro's invoicing and registry exports, roles, API."""
from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.extensions import db
from app.models.referentiel import SousDomaine
from app.services import candidatures, certification, evaluations, exports, stats
from app.services.errors import ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import T, dossier, habiliter
from tests.integration.test_certification import session
from tests.integration.test_evaluations import matrice_deposee, remplir
from tests.world import user

TODAY = dt.date.today()
MOIS = dt.date.today().strftime("%Y-%m")
OF_A, OF_B = "utilisateur_etablissement_a", "utilisateur_etablissement_b"
ADRESSE = {"email": "x@exemple.fr", "adresse": "1 rue Haute", "code_postal": "75011",
           "ville": "Paris"}


def prealable(c, by, acquis_sauf=0):
    ev = evaluations.creer(c, user(by))
    remplir(ev, acquis_sauf=acquis_sauf, by=by)
    matrice_deposee(ev, by=by)
    evaluations.finaliser(ev, user(by))
    return ev


@pytest.fixture
def jeu(app, world):
    """Réseau A: d1 certified (préalable 28/28), d2 préalable 20/28, d3 abandoned (emploi),
    d4 just created. Réseau B: d5 préalable 28/28. Hand-computed expectations below."""
    habiliter(world, "etab_a1", "etab_a1b", "etab_b1")
    d1 = candidatures.creer(dossier(world, nom_naissance="Un", type_public="demandeur_emploi",
                                    niveau_formation="3", **ADRESSE), user(OF_A), True)
    d2 = candidatures.creer(dossier(world, nom_naissance="Deux", type_public="salarie"),
                            user(OF_A), True)
    d3 = candidatures.creer(dossier(world, etab="etab_a1b", nom_naissance="Trois"),
                            user("utilisateur_organisme_a"), True)
    d4 = candidatures.creer(dossier(world, nom_naissance="Quatre"), user(OF_A), True)
    d5 = candidatures.creer(dossier(world, etab="etab_b1", nom_naissance="Cinq"), user(OF_B),
                            True)
    prealable(d1, OF_A)
    prealable(d2, OF_A, acquis_sauf=8)
    prealable(d5, OF_B)
    candidatures.abandonner(d3, "emploi", "", user("utilisateur_organisme_a"))
    session(world)
    certification.envoyer_en_certification(d1, user(OF_A))
    certification.decider(d1, "certifiee", "", user("certif_pro_a"))
    return {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "d5": d5}


def as_map(rows):
    return {code: n for code, _label, n in rows}


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_indicators_match_the_hand_computed_fixture(app, jeu):
    ind = stats.indicateurs(user("admin_reseau_a"), stats.Filtres())
    assert ind.total == 4
    assert {k: v for k, v in as_map(ind.par_statut).items() if v} == {
        "certifiee": 1, "attente_eval_finale": 1, "abandonnee": 1, "attente_eval_prealable": 1}
    assert ind.flux == [{"mois": MOIS, "crees": 4, "prealables": 2, "finales": 0,
                         "envoyes": 1, "certifies": 1}]
    assert (ind.prealables_finalises, ind.prealables_valides, ind.taux_premier_coup) == \
        (2, 1, 50.0)
    codes = sorted(db.session.scalars(select(SousDomaine.code)).all())
    rates = {a["code"]: (a["prealable"], a["finale"]) for a in ind.acquisition}
    assert len(rates) == 28
    assert {rates[c] for c in codes[:8]} == {(50.0, None)}  # d2 missed the first 8
    assert {rates[c] for c in codes[8:]} == {(100.0, None)}
    durees = {label: (mediane, n) for label, mediane, n in ind.durees}
    assert [n for _m, n in durees.values()] == [2, 0, 1, 1]
    assert list(durees.values())[1] == (None, 0)
    assert all(m is not None and 0 <= m < 0.01 for m, n in durees.values() if n)  # same day
    assert as_map(ind.jury) == {"certifiee": 1, "non_certifiee": 0, "complement": 0}
    assert as_map(ind.abandons)["emploi"] == 1 and sum(as_map(ind.abandons).values()) == 1
    assert as_map(ind.habilitations) == {"en_attente": 0, "validee": 2, "rejetee": 0,
                                         "expiree": 0}


def test_perimeter_and_filters(app, jeu):
    b = stats.indicateurs(user("admin_reseau_b"), stats.Filtres())
    assert b.total == 1 and as_map(b.jury)["certifiee"] == 0
    assert as_map(b.habilitations)["validee"] == 1
    assert b.flux == [{"mois": MOIS, "crees": 1, "prealables": 1, "finales": 0, "envoyes": 0,
                       "certifies": 0}]
    # a filter on another réseau's organisme gives nothing, not its numbers
    other = stats.Filtres(organisme_id=jeu["d5"].etablissement.organisme_id)
    assert stats.indicateurs(user("admin_reseau_a"), other).total == 0
    assert stats.indicateurs(user("admin_organisme_a"), stats.Filtres()).total == 4
    f = stats.Filtres.depuis({"etablissement_id": str(jeu["d1"].etablissement_id)})
    assert stats.indicateurs(user("admin_reseau_a"), f).total == 3
    assert stats.indicateurs(user("admin_reseau_a"),
                             stats.Filtres.depuis({"type_public": "salarie"})).total == 1
    assert stats.indicateurs(user("admin_reseau_a"),
                             stats.Filtres.depuis({"niveau": "3"})).total == 1
    demain = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert stats.indicateurs(user("certif_pro_a"), stats.Filtres.depuis({"debut": demain})
                             ).total == 0
    assert stats.indicateurs(user("certif_pro_a"), stats.Filtres()).total == 5
    with pytest.raises(RuleError, match="La fin de la période doit suivre son début."):
        stats.Filtres.depuis({"debut": "2026-05-01", "fin": "2026-04-01"})
    with pytest.raises(ForbiddenError):
        stats.indicateurs(user(OF_A), stats.Filtres())


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_export_read_back_matches_the_database(app, jeu, tmp_path):
    import os

    path = str(tmp_path / "parcours.xlsx")
    assert exports.exporter(user("admin_reseau_a"), stats.Filtres(), path) == 4
    try:
        book = load_workbook(path, read_only=True)
        rows = list(book["Parcours"].iter_rows(values_only=True))
        resume = list(book["Indicateurs"].iter_rows(values_only=True))
    finally:
        os.unlink(path)
    header, data = rows[0], {r[0]: r for r in rows[1:]}
    assert len(header) == 21 + 28
    assert set(data) == {jeu[k].id for k in ("d1", "d2", "d3", "d4")}  # never d5 (réseau B)
    col = {name: i for i, name in enumerate(header)}
    d1 = data[jeu["d1"].id]
    assert d1[col["Nom de naissance"]] == "UN" and d1[col["Statut"]] == "Certifiée"
    assert d1[col["Décision"]] == "Certifiée"
    assert d1[col["N° de certificat"]] == certification.certificat_de(jeu["d1"]).numero
    assert d1[col["Résultat"]] == "Validé" and d1[21:] == ("Acquis",) * 28
    d2 = data[jeu["d2"].id]
    assert d2[col["Résultat"]] == "Non validé" and d2[21:].count("Non acquis") == 8
    assert data[jeu["d4"].id][col["Dernière évaluation"]] in (None, "")
    assert ("Dossiers", 4) in [r[:2] for r in resume]
    assert ("Préalables validées du premier coup (%)", 50, 1, 2) in [r[:4] for r in resume]


def test_certif_pro_exports(app, jeu, tmp_path):
    path = str(tmp_path / "facturation.xlsx")
    exports.facturation(user("certif_pro_a"), stats.Filtres(), path)
    rows = list(load_workbook(path)["Facturation"].iter_rows(values_only=True))
    by_org = {r[1]: (r[2], r[4]) for r in rows[2:] if r[0] != "Total"}
    assert by_org == {"ORG_A1": (2, 1), "ORG_B1": (1, 0)}
    path = str(tmp_path / "registre.xlsx")
    exports.registre(user("certif_pro_a"), stats.Filtres(), path)
    rows = list(load_workbook(path)["Titulaires"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == certification.certificat_de(jeu["d1"]).numero
    assert rows[1][2] == "UN"
    with pytest.raises(ForbiddenError, match="réservé à Certif Pro"):
        exports.facturation(user("admin_reseau_a"), stats.Filtres(), path)
    with pytest.raises(ForbiddenError):
        exports.registre(user("admin_organisme_a"), stats.Filtres(), path)


@pytest.mark.parametrize("who,status", [
    ("certif_pro_a", 200), ("admin_reseau_a", 200), ("admin_organisme_a", 200),
    ("superviseur_reseau_a", 403), ("utilisateur_organisme_a", 403),
    ("admin_etablissement_a", 403), (OF_A, 403), ("jury_a", 403)])
def test_stats_tab_and_api_per_role(app, jeu, login, api_token, who, status):
    client = login(who)
    page = client.get("/stats/")
    assert page.status_code == status
    api = app.test_client().get("/api/v1/stats/", headers=api_token(who))
    assert api.status_code == status
    if status == 200:
        text = T(page)
        assert "Dossiers par statut" in text and "Exporter (Excel)" in text
        assert ("Export de facturation par organisme" in text) == (who == "certif_pro_a")
        assert api.json["total"] == (5 if who == "certif_pro_a" else 4)
        export = client.post("/stats/export")  # queued, prepared off the request
        assert export.status_code == 302 and export.headers["Location"].endswith("/exports/")


def test_stats_screen_refusals_and_api_filters(app, jeu, login, api_token):
    client = login("admin_reseau_a")
    page = T(client.get("/stats/?debut=2026-05-01&fin=2026-04-01"))
    assert "La fin de la période doit suivre son début." in page
    refused = T(client.post("/stats/facturation", follow_redirects=True))
    assert "Cet export est réservé à Certif Pro." in refused
    api = app.test_client().get("/api/v1/stats/?type_public=inconnu",
                                headers=api_token("admin_reseau_a"))
    assert api.status_code == 400 and api.json["message"] == "Type de public inconnu."
    api = app.test_client().post("/api/v1/stats/export?type_public=inconnu",
                                 headers=api_token("admin_reseau_a"))
    assert api.status_code == 400 and api.json["message"] == "Type de public inconnu."


def test_indicator_queries_do_not_grow_with_rows(app, world, jeu, count_queries):
    with count_queries() as first:
        stats.indicateurs(user("admin_reseau_a"), stats.Filtres())
    for i in range(5):
        candidatures.creer(dossier(world, nom_naissance=f"Extra{i}"), user(OF_A), True)
    with count_queries() as second:
        stats.indicateurs(user("admin_reseau_a"), stats.Filtres())
    assert second.count == first.count


def test_filter_choices_are_searched_and_stay_in_the_perimeter(app, world, jeu, login):
    client = login("admin_reseau_a")
    own = T(client.get(f"/stats/?organisme_id={world.ids['org_a1']}"))
    assert f'<option value="{world.ids["org_a1"]}" selected>ORG_A1</option>' in own
    assert 'data-url="/lookup/organisme"' in own
    other = T(client.get(f"/stats/?organisme_id={world.ids['org_b1']}"))
    assert "ORG_B1" not in other and "0 dossier dans votre sélection" in other


def test_invoicing_amounts_at_the_dated_tariffs_per_organisme_and_etablissement(
        app, jeu, tmp_path, monkeypatch):
    """Each act is billed at the tariff in force on its day; the breakdown per établissement
    adds up to the organisme's line; the first sheet says what made the file."""
    import json

    from app.models.evaluation import Evaluation

    grille = tmp_path / "tarifs.json"
    changement = TODAY - dt.timedelta(days=10)
    grille.write_text(json.dumps({"tarifs": [
        {"acte": "prealable", "depuis": "2020-01-01", "montant": "30"},
        {"acte": "prealable", "depuis": changement.isoformat(), "montant": "45.50"},
        {"acte": "certificat", "depuis": "2020-01-01", "montant": "12.00"}]}))
    monkeypatch.setitem(app.config, "CLEA_TARIFS_FILE", str(grille))
    # d2's préalable was finalized before the change: the former tariff
    db.session.execute(Evaluation.__table__.update().where(
        Evaluation.candidature_id == jeu["d2"].id).values(
        finalisee_le=dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time(9))))
    db.session.commit()
    path = str(tmp_path / "facturation.xlsx")
    exports.facturation(user("certif_pro_a"), stats.Filtres(), path)
    book = load_workbook(path)
    assert book.sheetnames == ["Export", "Facturation", "Par établissement", "Tarifs"]
    rows = list(book["Facturation"].iter_rows(values_only=True))
    assert rows[1] == ("SIREN", "Organisme", "Évaluations préalables",
                       "Montant des préalables (€ HT)", "Certificats délivrés",
                       "Montant des certificats (€ HT)", "Total (€ HT)")
    by_org = {r[1]: r[2:] for r in rows[2:]}
    assert by_org["ORG_A1"] == (2, 75.5, 1, 12, 87.5)
    assert by_org["ORG_B1"] == (1, 45.5, 0, 0, 45.5)
    assert [r for r in rows if r[0] == "Total"] == [("Total", None, 3, 121, 1, 12, 133)]
    etabs = {r[1]: r[4:] for r in list(book["Par établissement"].iter_rows(
        values_only=True))[2:]}
    assert etabs == {"ETAB_A1": (2, 75.5, 1, 12, 87.5), "ETAB_B1": (1, 45.5, 0, 0, 45.5)}
    tarifs_lus = list(book["Tarifs"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[1].date(), r[2]) for r in tarifs_lus] == [
        ("Certificat délivré", dt.date(2020, 1, 1), 12),
        ("Évaluation préalable finalisée", dt.date(2020, 1, 1), 30),
        ("Évaluation préalable finalisée", changement, 45.5)]
    assert book["Facturation"].freeze_panes == "A3"
    garde = dict(r[:2] for r in book["Export"].iter_rows(min_row=2, values_only=True))
    assert garde["Export"] == "Facturation par organisme"
    assert garde["Filtres"] == "Aucun : toute la période, tout le périmètre"
    # a period: the acts of its days only, each at its own day's tariff
    debut = TODAY - dt.timedelta(days=5)
    exports.facturation(user("certif_pro_a"), stats.Filtres(debut=debut), path)
    book = load_workbook(path)
    by_org = {r[1]: r[2:] for r in list(book["Facturation"].iter_rows(values_only=True))[2:]}
    assert by_org["ORG_A1"] == (1, 45.5, 1, 12, 57.5)
    garde = dict(r[:2] for r in book["Export"].iter_rows(min_row=2, values_only=True))
    assert garde["Période"] == f"{debut.strftime('%d/%m/%Y')} — …"
    # a broken tariffs file refuses the export in French, it writes nothing
    grille.write_text(json.dumps({"tarifs": [{"acte": "prealable", "depuis": "2020-13-01",
                                              "montant": "30"}]}))
    from app.services.tarifs import TarifsInvalides
    with pytest.raises(TarifsInvalides, match="date « depuis » invalide"):
        exports.facturation(user("certif_pro_a"), stats.Filtres(), str(tmp_path / "x.xlsx"))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_region_and_jury_filters(app, world, jeu, login):
    """Réseau A: d1, d2, d4 at ETAB_A1 (Île-de-France), d3 at ETAB_A1B (Auvergne-Rhône-
    Alpes); only d1 went to a jury (Transitions Pro Île-de-France)."""
    admin = user("admin_reseau_a")
    ara = stats.indicateurs(admin, stats.Filtres(region="ARA"))
    assert ara.total == 1 and as_map(ara.par_statut)["abandonnee"] == 1
    idf = stats.indicateurs(user("certif_pro_a"), stats.Filtres(region="IDF"))
    assert idf.total == 4  # d1, d2, d4 and réseau B's d5
    jury = stats.indicateurs(admin, stats.Filtres(jury_id=world.ids["tp_idf"]))
    assert jury.total == 1 and as_map(jury.par_statut)["certifiee"] == 1
    assert as_map(jury.jury)["certifiee"] == 1
    both = stats.indicateurs(admin, stats.Filtres(region="ARA", jury_id=world.ids["tp_idf"]))
    assert both.total == 0
    with pytest.raises(RuleError, match="Région inconnue"):
        stats.Filtres.depuis({"region": "XX"})
    with pytest.raises(RuleError, match="n'appartient pas à l'organisme choisi") as refus:
        stats.Filtres.depuis({"organisme_id": str(world.ids["org_a1"]),
                              "etablissement_id": str(world.ids["etab_b1"])})
    assert refus.value.field == "etablissement_id"
    assert stats.filtres_lisibles(stats.Filtres(region="ARA", jury_id=world.ids["tp_idf"])) == [
        ("Région", "Auvergne-Rhône-Alpes"), ("Jury", "Transitions Pro Île-de-France")]
    # the page: the filters offered and applied
    client = login("admin_reseau_a")
    page = client.get(f"/stats/?region=ARA&jury_id={world.ids['tp_idf']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<option value="ARA" selected>Auvergne-Rhône-Alpes</option>' in text
    assert f'<option value="{world.ids["tp_idf"]}" selected>Transitions Pro' in text
    refused = client.get(f"/stats/?organisme_id={world.ids['org_a1']}"
                         f"&etablissement_id={world.ids['etab_a2']}")
    assert "n&#39;appartient pas à l&#39;organisme choisi" in refused.get_data(as_text=True)
    # the établissements offered follow the organisme chosen
    found = client.get(f"/lookup/etablissement?parent={world.ids['org_a1']}").json["results"]
    assert sorted(r["text"] for r in found) == ["ETAB_A1", "ETAB_A1B"]
    assert client.get("/lookup/etablissement?parent=abc").json["results"] == []
