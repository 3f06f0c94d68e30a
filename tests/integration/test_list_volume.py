"""The big lists at national volume (issue 14, « Make it fast »): the Évaluations lists page
by keyset in their order (updated_on DESC, id DESC) with counts capped at what the pager
shows, the perimeter is one indexed equality on columns the dossier carries (organisme,
réseau), and the national search answers in one statement.

(1) On SQLite and PostgreSQL, lists of several pages are walked through their links (first,
next, last, previous, old ?page=N URLs) and every dossier shows exactly once, in order, with
the pager's exact or « plus de » wording. (2) On PostgreSQL with 100 000 synthetic
candidatures, EXPLAIN shows every statement of the list pages (réseau, national,
établissement, a far keyset page) and of the search on their indexes, never a sequential
scan of candidature or candidat."""
from __future__ import annotations

import html
import json
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Etablissement, Organisme
from app.models.candidature import Candidature
from app.services import candidatures, pages, rattachements, structure
from app.services.pages import encode
from app.services.errors import RuleError
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import habiliter
from tests.integration.test_list_pages import bulk_dossiers, main
from tests.world import user

LINK = {rel: re.compile(rf'<a href="([^"]+)" rel="{rel}">') for rel in
        ("first", "prev", "next", "last")}
NAME = re.compile(r"<td>LISTE(\d{3})</td>")


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return main(html.unescape(response.get_data(as_text=True)))


def shown(page: str) -> list[int]:
    """The numbers of the LISTE### dossiers a page shows, top to bottom."""
    return [int(n) for n in NAME.findall(page)]


def link(page: str, rel: str) -> str:
    found = LINK[rel].search(page)
    assert found, f"no {rel} link"
    return html.unescape(found.group(1))


def position(page: str) -> str:
    found = re.search(r'<li class="clea-pager-position">([^<]*)</li>', page)
    return found.group(1) if found else ""


@pytest.fixture
def liste(app, world):
    """130 dossiers LISTE000…LISTE129 in etab_a1 (the highest changed last) and 5 elsewhere
    in the réseau (etab_a2) that the établissement's user does not see."""
    habiliter(world, "etab_a1", "etab_a2")
    bulk_dossiers(world.ids["etab_a1"], "LISTE", 130)
    bulk_dossiers(world.ids["etab_a2"], "AILLEURS", 5)
    return f"/evaluations/?etablissement={world.ids['etab_a1']}"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_keyset_walk_shows_every_dossier_once(app, world, login, liste, count_queries):
    client = login("utilisateur_etablissement_a")
    first = text(client.get(liste))
    assert "130 dossiers" in first
    assert shown(first) == list(range(129, 104, -1))
    assert position(first) == "Page 1 sur 6"
    assert "rel=\"prev\"" not in first and "rel=\"first\"" not in first
    second = text(client.get(link(first, "next")))
    assert shown(second) == list(range(104, 79, -1)) and position(second) == "Page 2 sur 6"
    third = text(client.get(link(second, "next")))
    assert shown(third) == list(range(79, 54, -1)) and position(third) == "Page 3 sur 6"
    # the filter follows the cursor links
    assert f"etablissement={world.ids['etab_a1']}" in link(third, "next")
    last = text(client.get(link(third, "last")))
    assert shown(last) == list(range(4, -1, -1)) and position(last) == "Page 6 sur 6"
    assert "rel=\"next\"" not in last and "rel=\"last\"" not in last
    before_last = text(client.get(link(last, "prev")))
    assert shown(before_last) == list(range(29, 4, -1))
    assert position(before_last) == "Page 5 sur 6"
    back = text(client.get(link(before_last, "first")))
    assert shown(back) == shown(first)
    # every page asks the database the same few statements, whatever its depth
    with count_queries() as near:
        client.get(liste)
    with count_queries() as far:
        client.get(link(before_last, "prev"))
    assert far.count <= near.count + 1
    # the whole walk by « Suivants »: each dossier once, in order
    seen, url = [], liste
    while url:
        page = text(client.get(url))
        seen += shown(page)
        url = link(page, "next") if LINK["next"].search(page) else None
    assert seen == list(range(129, -1, -1))


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_old_page_urls_keep_working(app, world, login, liste):
    client = login("utilisateur_etablissement_a")
    page = text(client.get(liste + "&page=2"))
    assert shown(page) == list(range(79, 54, -1)) and position(page) == "Page 3 sur 6"
    following = text(client.get(link(page, "next")))
    assert shown(following) == list(range(54, 29, -1))
    # past the end: the last page (a row was just moved or deleted)
    assert shown(text(client.get(liste + "&page=99"))) == list(range(4, -1, -1))
    # a cursor past the end (its rows were just moved or deleted): the last page
    assert shown(text(client.get(liste + "&apres=2000-01-01T00:00:00_1"))) == list(range(4, -1, -1))
    # a cursor that is not one starts the list again
    assert shown(text(client.get(liste + "&apres=n-importe-quoi")))[0] == 129


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_capped_count_says_plus_de(app, world, login, liste, monkeypatch):
    """Beyond what the pager shows (LOOKAHEAD pages, here 2 × 25 rows) nothing is counted:
    the list says « Plus de 50 dossiers » and « Page 1 sur plus de 2 »; a far page whose
    position was not counted shows no position, and every dossier still shows once."""
    monkeypatch.setattr(pages, "LOOKAHEAD", 2)
    client = login("utilisateur_etablissement_a")
    first = text(client.get(liste))
    assert "Plus de 50 dossiers" in first and "130 dossiers" not in first
    assert position(first) == "Page 1 sur plus de 2"
    second = text(client.get(link(first, "next")))
    assert position(second) == "Page 2 sur plus de 3"
    seen, page = shown(first) + shown(second), second
    while LINK["next"].search(page):
        page = text(client.get(link(page, "next")))
        seen += shown(page)
    assert seen == list(range(129, -1, -1))
    # the last page when the total is not known: the 25 oldest dossiers, then backwards
    last = text(client.get(link(first, "last")))
    assert shown(last) == list(range(24, -1, -1)) and position(last) == ""
    seen, page = shown(last), last
    while LINK["prev"].search(page):
        page = text(client.get(link(page, "prev")))
        if LINK["prev"].search(page):
            seen = shown(page) + seen
    assert seen == list(range(124, -1, -1))  # 24…0, 49…25, …, 124…100: each once
    # back at the start the first page is whole (129…105), as from the list's link
    assert shown(page) == shown(first) and position(page) == "Page 1 sur plus de 2"


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_filter_and_search(app, world, login, liste, count_queries):
    client = login("admin_reseau_a")
    # the réseau sees both établissements (perimeter on the dossier's réseau)
    everything = text(client.get("/evaluations/"))
    assert "135 dossiers" in everything
    named = text(client.get("/evaluations/?nom=liste12"))
    assert "10 dossiers" in named and shown(named) == list(range(129, 119, -1))
    assert "rel=\"next\"" not in named
    elsewhere = text(client.get(f"/evaluations/?etablissement={world.ids['etab_a2']}"))
    assert "5 dossiers" in elsewhere and "AILLEURS004" in elsewhere and not shown(elsewhere)
    # the search: each hit with its établissement and status, in one statement
    page = text(client.get("/recherche/?q=liste12"))
    assert "10 candidats" in page and page.count("ETAB_A1") == 10
    assert "En attente d'évaluation préalable" in page
    with count_queries() as many:
        client.get("/recherche/?q=liste12")
    with count_queries() as one:
        client.get("/recherche/?q=liste129")
    assert many.count == one.count
    # outside the perimeter: found, not openable
    other = login("utilisateur_etablissement_b")
    hits = candidatures.rechercher("ailleurs", user("utilisateur_etablissement_b"))
    assert len(hits) == 5 and not any(h.dans_perimetre for h in hits)
    assert {h.candidature.etablissement.nom for h in hits} == {"ETAB_A2"}
    page = text(other.get("/recherche/?q=ailleurs"))
    assert page.count("ETAB_A2") == 5 and "Consulter le dossier" not in page


def _perimetre(candidature_id: int) -> tuple:
    return db.session.execute(select(Candidature.organisme_id, Candidature.reseau_id)
                              .where(Candidature.id == candidature_id)).one()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_perimeter_columns_stay_exact(app, world, login):
    """The organisme and réseau the dossier carries follow its creation, a rattachement to
    another établissement and an organisme moved to another réseau."""
    habiliter(world, "etab_a1", "etab_b1")
    [dossier] = bulk_dossiers(world.ids["etab_a1"], "SUIVI", 1)
    assert _perimetre(dossier.id) == (world.ids["org_a1"], world.ids["reseau_a"])
    # a rattachement accepted by Certif Pro: the dossier moves to réseau B
    demande = rattachements.demander(dossier.id, {
        "etablissement_cible_id": world.ids["etab_b1"], "motif": "demenagement",
        "motif_texte": "Le candidat a déménagé."}, user("utilisateur_etablissement_b"))
    rattachements.decider(demande, True, "", user("certif_pro_a"))
    assert _perimetre(dossier.id) == (world.ids["org_b1"], world.ids["reseau_b"])
    assert dossier.id in [c.id for c in candidatures.lister(user("admin_reseau_b"), {})]
    assert dossier.id not in [c.id for c in candidatures.lister(user("admin_reseau_a"), {})]
    # org_b1 moves to réseau A: its dossiers follow
    structure.update_organisme(db.session.get(Organisme, world.ids["org_b1"]),
                               {"reseau_id": world.ids["reseau_a"]}, user("certif_pro_a"))
    assert _perimetre(dossier.id) == (world.ids["org_b1"], world.ids["reseau_a"])
    client = login("admin_reseau_a")
    assert "SUIVI000" in text(client.get("/evaluations/"))
    # a dossier created through the service carries them from the start
    etab = db.session.get(Etablissement, world.ids["etab_a1"])
    assert candidatures.perimetre.valeurs(etab) == {"organisme_id": world.ids["org_a1"],
                                                    "reseau_id": world.ids["reseau_a"]}


# --- (2) PostgreSQL, 100 000 synthetic dossiers: the plans ------------------------------

VOLUME = 100_000
SYNTH = """
-- synthetic rows, consistent by construction: the foreign keys' triggers are skipped
SET session_replication_role = replica;
INSERT INTO reseau (nom, created_on)
SELECT 'Réseau synthétique ' || g, now() FROM generate_series(1, 20) AS g;
INSERT INTO organisme (reseau_id, raison_sociale, siren, actif, created_on)
SELECT (SELECT min(id) FROM reseau WHERE nom LIKE 'Réseau synthétique %') + g % 20,
       'Organisme ' || g, 'S' || lpad(g::text, 8, '0'), true, now()
FROM generate_series(1, 200) AS g;
INSERT INTO etablissement (organisme_id, nom, siret, region, actif, created_on)
SELECT (SELECT min(id) FROM organisme WHERE raison_sociale LIKE 'Organisme %') + g % 200,
       'Établissement ' || g, 'T' || lpad(g::text, 13, '0'), 'IDF', true, now()
FROM generate_series(1, 1000) AS g;
INSERT INTO candidat (civilite, nom_naissance, prenoms, date_naissance, cle_identite, recherche,
                      recherche_prenom, created_on)
SELECT 'Mme', 'Volume' || g, 'Anne', DATE '1970-01-01' + (g % 15000), 'volume|' || g,
       'volume' || g || ' anne', 'anne volume' || g, now()
FROM generate_series(1, {n}) AS g;
ANALYZE candidat;
ANALYZE etablissement;
ANALYZE organisme;
-- one dossier in a hundred in the world's etab_a1 (réseau A, key -1), the others spread over
-- the synthetic établissements (keys 0…999); organisme_id and reseau_id derived from the
-- établissement, as the migration and services/perimetre.py do
INSERT INTO candidature (candidat_id, etablissement_id, organisme_id, reseau_id, statut,
                         statut_inscription, socle_contextualise, objectif_pro,
                         objectif_extra_pro, certificat_papier, created_on, updated_on)
SELECT c.id, e.id, e.organisme_id, e.reseau_id,
       CASE WHEN c.id % 10 = 0 THEN 'abandonnee' ELSE 'attente_eval_finale' END,
       'demandeur_emploi', false, 'Objectif professionnel.', 'Objectif extra-professionnel.',
       false, now() - (c.id % 700) * interval '1 day',
       now() - (c.id % 700) * interval '1 day' - c.id * interval '1 second'
FROM (SELECT id, CASE WHEN id % 100 = 1 THEN -1 ELSE id % 1000 END AS k FROM candidat
      WHERE cle_identite LIKE 'volume|%') c
JOIN (SELECT row_number() OVER (ORDER BY e.id) - 1 AS k, e.id, e.organisme_id, o.reseau_id
      FROM etablissement e JOIN organisme o ON o.id = e.organisme_id
      WHERE e.nom LIKE 'Établissement %'
      UNION ALL
      SELECT -1, e.id, e.organisme_id, o.reseau_id
      FROM etablissement e JOIN organisme o ON o.id = e.organisme_id WHERE e.id = {etab}) e
  ON e.k = c.k;
ANALYZE;
"""


@contextmanager
def statements():
    """The SQL statements (with their parameters) run inside the block."""
    seen: list = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def plan_nodes(statement: str, parameters) -> list[dict]:
    raw = db.session.connection().exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                                  parameters).scalar()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    nodes, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def assert_on_indexes(seen: list, tables=("candidature", "candidat")) -> list[str]:
    """Every statement touching `tables` reads them by index (no Seq Scan); the index
    names used, for the report."""
    used, checked = [], 0
    for statement, parameters in seen:
        if not statement.lstrip().upper().startswith("SELECT") or "candidat" not in statement:
            continue
        nodes = plan_nodes(statement, parameters)
        checked += 1
        for node in nodes:
            assert not (node["Node Type"] == "Seq Scan" and node.get("Relation Name") in tables), \
                f"Seq Scan on {node['Relation Name']}:\n{statement}"
            if "Index Name" in node:
                used.append(node["Index Name"])
    assert checked, "no statement on the candidatures"
    return used


def charger_volume(world) -> None:
    """VOLUME dossiers in établissement etab_a1 (habilitated): one INSERT … SELECT per table,
    then ANALYZE."""
    habiliter(world, "etab_a1")
    db.session.commit()
    with db.engine.connect() as connection:
        raw = connection.connection.driver_connection
        raw.autocommit = True
        raw.execute(SYNTH.format(n=VOLUME, etab=world.ids["etab_a1"]))
    assert db.session.scalar(select(db.func.count()).select_from(Candidature)) == VOLUME


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_plans_at_volume(app, world):
    charger_volume(world)
    for username, index in (("admin_reseau_a", "ix_candidature_reseau_liste"),
                            ("certif_pro_a", "ix_candidature_liste"),
                            ("admin_organisme_a", "ix_candidature_organisme_liste"),
                            ("utilisateur_etablissement_a", "ix_candidature_etab_liste")):
        who = user(username)
        with statements() as seen:
            first = candidatures.lister(who, {})
        assert len(first) == candidatures.PAGE_SIZE
        assert index in assert_on_indexes(seen), username
        # a far page: the cursor of a dossier deep in the list
        deep = db.session.execute(
            select(Candidature.updated_on, Candidature.id)
            .where(candidatures.perimeter.clause(Candidature, who),
                   Candidature.statut != "abandonnee")
            .order_by(Candidature.updated_on.desc(), Candidature.id.desc()).limit(1)
            .offset(candidatures.PAGE_SIZE * 20)).one()
        with statements() as seen:
            far = candidatures.lister(who, {"apres": encode(deep)})
        assert len(far) == candidatures.PAGE_SIZE
        assert all((c.updated_on, c.id) < tuple(deep) for c in far)
        assert index in assert_on_indexes(seen), username
    # filtered by établissement (the réseau's user) and by statut
    with statements() as seen:
        candidatures.lister(user("admin_reseau_a"),
                            {"etablissement": str(world.ids["etab_a1"])})
    assert "ix_candidature_etab_liste" in assert_on_indexes(seen)
    with statements() as seen:
        assert candidatures.lister(user("certif_pro_a"), {}, abandonnees=True)
    assert_on_indexes(seen)
    # the national search: two statements (the people counted up to the limit, then the
    # hits), on the name indexes and the candidature's keys
    reseau = user("admin_reseau_a")
    with statements() as seen:
        hits = candidatures.rechercher("volume1234", reseau)
    assert len(hits) == 11 and all(h.candidature is not None for h in hits)
    assert len([s for s in seen if "candidat" in s[0]]) == 2
    used = assert_on_indexes(seen)
    assert "ix_candidat_recherche" in used
    # a common prefix (« volume1 »: 11 111 people) is refused by the count alone, each way
    # of matching read on its own index and stopped past the limit
    with statements() as seen, pytest.raises(RuleError, match="Recherche trop large"):
        candidatures.rechercher("volume1", reseau)
    assert len([s for s in seen if "candidat" in s[0]]) == 1
    used = assert_on_indexes(seen)
    assert {"ix_candidat_recherche", "ix_candidat_recherche_usage",
            "ix_candidat_recherche_prenom"} <= set(used)
