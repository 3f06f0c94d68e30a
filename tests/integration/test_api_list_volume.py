"""Issue 14, « National volume »: the API list GET /api/v1/candidature/ pages like the HTML
lists — keyset pages in the lists' order (updated_on, id descending) on the perimeter's
indexes, the `apres` cursor given back as `next`, a count capped at what a pager shows
(`count_exact` false: « plus de count »), FAB's old rison pages still answered, page_size
bounded, the perimeter unchanged (404 outside), every refusal French JSON.

(1) On SQLite and PostgreSQL: the walk by `next` returns every row once, in order; the old
`q=(page:N,page_size:M)` pages; the refusals; the same number of statements on page 1 and on
a far page with 30 or 120 rows. (2) On PostgreSQL with 100 000 synthetic candidatures,
EXPLAIN shows every statement of the list (first page, far cursor page, far numbered page,
filtered) on the indexes, never a sequential scan of candidature."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.candidature import Candidature
from app.services import pages
from app.services.pages import encode
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import habiliter
from tests.integration.test_list_pages import bulk_dossiers
from tests.integration.test_list_volume import VOLUME, assert_on_indexes, charger_volume, statements

URL = "/api/v1/candidature/"
BUDGET = 15


def ordered(etab_id: int) -> list[int]:
    """The ids of an établissement's dossiers in the list's order."""
    return list(db.session.scalars(
        select(Candidature.id).where(Candidature.etablissement_id == etab_id)
        .order_by(Candidature.updated_on.desc(), Candidature.id.desc())))


def walk(client, headers, size: int) -> tuple[list[int], int]:
    """Every page by `next`: the ids read, and the number of pages."""
    seen, url, n = [], f"{URL}?q=(page_size:{size})", 0
    while url:
        body = client.get(url, headers=headers).json
        assert len(body["result"]) <= size and body["ids"] == [r["id"] for r in body["result"]]
        seen += body["ids"]
        n += 1
        url = f"{URL}?q=(page_size:{size})&apres={body['next']}" if body["next"] else None
    return seen, n


@pytest.fixture
def liste(app, world):
    """130 dossiers in etab_a1 and 5 in etab_a2 (same réseau, another établissement)."""
    habiliter(world, "etab_a1", "etab_a2", "etab_b1")
    bulk_dossiers(world.ids["etab_a1"], "LISTE", 130)
    bulk_dossiers(world.ids["etab_a2"], "AILLEURS", 5)
    return ordered(world.ids["etab_a1"])


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_keyset_walk_returns_every_row_once(app, world, api_token, liste):
    client, headers = app.test_client(), api_token("utilisateur_etablissement_a")
    first = client.get(URL, headers=headers).json
    assert first["count"] == 130 and first["count_exact"] is True
    assert first["ids"] == liste[:25] and first["page"] == 0 and first["page_size"] == 25
    assert first["next"] == encode(db.session.execute(
        select(Candidature.updated_on, Candidature.id)
        .where(Candidature.id == liste[24])).one())
    second = client.get(f"{URL}?apres={first['next']}", headers=headers).json
    assert second["ids"] == liste[25:50] and second["page"] == 1
    assert second["count"] == 130 and second["count_exact"] is True
    for size in (25, 40, 100):
        seen, n = walk(client, headers, size)
        assert seen == liste, size  # each dossier once, in order, none of etab_a2
        assert n == -(-130 // size)
    # the réseau's user sees both établissements; another réseau sees none of them
    reseau, _ = walk(client, api_token("admin_reseau_a"), 50)
    assert len(reseau) == len(set(reseau)) == 135
    other = api_token("utilisateur_etablissement_b")
    body = client.get(URL, headers=other).json
    assert body["count"] == 0 and body["result"] == [] and body["next"] is None
    response = client.get(f"{URL}{liste[0]}", headers=other)
    assert response.status_code == 404
    assert response.json["message"] == "Introuvable ou hors de votre périmètre."


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_old_numbered_pages_still_answered(app, world, api_token, liste):
    client, headers = app.test_client(), api_token("utilisateur_etablissement_a")
    page = client.get(f"{URL}?q=(page:2,page_size:25)", headers=headers).json
    assert page["ids"] == liste[50:75] and page["page"] == 2
    assert page["count"] == 130 and page["count_exact"] is True
    # the cursor of a numbered page continues it
    following = client.get(f"{URL}?apres={page['next']}", headers=headers).json
    assert following["ids"] == liste[75:100]
    # an old client reading page after page until an empty one gets every row once
    seen, number = [], 0
    while True:
        body = client.get(f"{URL}?q=(page:{number},page_size:30)", headers=headers).json
        if not body["result"]:
            break
        seen += body["ids"]
        number += 1
    assert seen == liste and number == 5
    past = client.get(f"{URL}?q=(page:99,page_size:25)", headers=headers).json
    assert past["result"] == [] and past["next"] is None
    assert past["count"] == 130 and past["count_exact"] is True
    # page_size is bounded by FAB_API_MAX_PAGE_SIZE (100); 0 is the default
    assert len(client.get(f"{URL}?q=(page_size:500)", headers=headers).json["result"]) == 100
    assert client.get(f"{URL}?q=(page_size:0)", headers=headers).json["page_size"] == 25
    # FAB's filters and selected columns still work
    filtre = "(filters:!((col:statut,opr:eq,value:abandonnee)))"
    assert client.get(f"{URL}?q={filtre}", headers=headers).json["count"] == 0
    body = client.get(f"{URL}?q=(columns:!(id,statut),page_size:3)", headers=headers).json
    assert body["result"][0] == {"id": liste[0], "statut": "attente_eval_prealable"}
    # the order of the indexes, asked for explicitly
    body = client.get(f"{URL}?q=(order_column:updated_on,order_direction:desc)",
                      headers=headers).json
    assert body["ids"] == liste[:25]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_refusals_are_french(app, world, api_token, liste):
    client, headers = app.test_client(), api_token("utilisateur_etablissement_a")
    refused = {
        "?q=(order_column:created_on)": "Cette liste est triée par updated_on décroissant "
        "(puis id) : seul order_column=updated_on, order_direction=desc est accepté.",
        "?q=(order_column:updated_on,order_direction:asc)": "Cette liste est triée par "
        "updated_on décroissant (puis id) : seul order_column=updated_on, "
        "order_direction=desc est accepté.",
        "?q=(page:-1)": "« page » et « page_size » sont des nombres positifs.",
        "?q=(page_size:-5)": "« page » et « page_size » sont des nombres positifs.",
        "?apres=n-importe-quoi": "Curseur « apres » invalide : reprenez la valeur « next » "
        "de la réponse précédente.",
        "?apres=2026-01-05T09:00:00_x": "Curseur « apres » invalide : reprenez la valeur "
        "« next » de la réponse précédente.",
        "?q=(page:1)&apres=2026-01-05T09:00:00_1": "« apres » ne se combine pas avec "
        "« page » : suivez le curseur « next » de la page précédente.",
        "?q=(filters:!((col:inconnue,opr:eq,value:1)))": "Filtre invalide dans « filters » "
        "du paramètre q.",
        "?q=(a:!x)": "Paramètre q invalide : objet rison ou JSON attendu.",
        "?q=(page:x)": "Paramètre q invalide : objet rison ou JSON attendu.",
    }
    for query, message in refused.items():
        response = client.get(URL + query, headers=headers)
        assert response.status_code == 400, (query, response.status_code)
        assert response.json["message"] == message, query
    # a cursor past the end (its rows were just moved or deleted): an empty last page
    body = client.get(f"{URL}?apres=2000-01-01T00:00:00_1", headers=headers).json
    assert body["result"] == [] and body["next"] is None and body["count"] == 130


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_count_capped_says_plus_de(app, world, api_token, liste, monkeypatch):
    """Beyond LOOKAHEAD pages (here 2) from the page returned nothing is counted."""
    monkeypatch.setattr(pages, "LOOKAHEAD", 2)
    client, headers = app.test_client(), api_token("utilisateur_etablissement_a")
    first = client.get(URL, headers=headers).json
    assert first["count"] == 50 and first["count_exact"] is False and first["next"]
    # a numbered page near the end: the rows before it plus the rest, exact
    near_end = client.get(f"{URL}?q=(page:4,page_size:25)", headers=headers).json
    assert near_end["count"] == 130 and near_end["count_exact"] is True
    # a cursor deep in the list: neither side counted beyond the cap
    deep = client.get(f"{URL}?q=(page:2,page_size:25)", headers=headers).json
    deeper = client.get(f"{URL}?apres={deep['next']}", headers=headers).json
    assert deeper["ids"] == liste[75:100] and deeper["count_exact"] is False
    assert deeper["count"] == 100  # 50 before (capped) + the 50 from the page on (capped)
    seen, _ = walk(client, headers, 25)
    assert seen == liste


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_statements_constant_whatever_the_rows(app, world, api_token, count_queries):
    """Page 1, a far page by cursor and a far numbered page cost the same statements with 30
    or 120 rows, within the budget."""
    habiliter(world, "etab_a1")
    client, headers = app.test_client(), api_token("utilisateur_etablissement_a")

    def measure(far: int) -> dict[str, int]:
        ids = ordered(world.ids["etab_a1"])
        cursor = encode(db.session.execute(select(Candidature.updated_on, Candidature.id)
                                           .where(Candidature.id == ids[far * 25 - 1])).one())
        counts = {}
        for what, url in (("page 1", URL), ("curseur", f"{URL}?apres={cursor}"),
                          ("page numérotée", f"{URL}?q=(page:{far},page_size:25)")):
            client.get(url, headers=headers)  # warm-up (first-request caches)
            db.session.remove()  # a fresh session, as each request has in production
            with count_queries() as counter:
                response = client.get(url, headers=headers)
            assert response.status_code == 200 and response.json["result"], (what, far)
            counts[what] = counter.count
        return counts

    bulk_dossiers(world.ids["etab_a1"], "PEU", 30)
    few = measure(1)
    bulk_dossiers(world.ids["etab_a1"], "BEAUCOUP", 90)
    many = measure(4)
    assert few == many, (few, many)
    assert max(many.values()) <= BUDGET, many


# --- (2) PostgreSQL, 100 000 synthetic dossiers: the plans ------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_api_list_plans_at_volume(app, world, api_token):
    charger_volume(world)
    client = app.test_client()
    for username, index in (("admin_reseau_a", "ix_candidature_reseau_liste"),
                            ("certif_pro_a", "ix_candidature_liste"),
                            ("utilisateur_etablissement_a", "ix_candidature_etab_liste")):
        headers = api_token(username)
        with statements() as seen:
            first = client.get(URL, headers=headers).json
        assert len(first["result"]) == 25 and first["next"], username
        assert index in assert_on_indexes(seen, tables=("candidature",)), username
        # far pages: a cursor 500 rows deep, and the old numbered page 20
        with statements() as seen:
            deep = client.get(f"{URL}?q=(page:20,page_size:25)", headers=headers).json
        assert len(deep["result"]) == 25, username
        assert index in assert_on_indexes(seen, tables=("candidature",)), username
        with statements() as seen:
            far = client.get(f"{URL}?apres={deep['next']}", headers=headers).json
        assert len(far["result"]) == 25 and far["ids"][0] not in deep["ids"], username
        assert index in assert_on_indexes(seen, tables=("candidature",)), username
    # the national list counts at most what the pager shows, never the 100 000 rows
    national = client.get(URL, headers=api_token("certif_pro_a")).json
    assert national["count_exact"] is False and national["count"] < VOLUME
    # filtered by établissement (the réseau's user): its own index
    headers = api_token("admin_reseau_a")
    filtre = f"(filters:!((col:etablissement_id,opr:eq,value:{world.ids['etab_a1']})))"
    with statements() as seen:
        body = client.get(f"{URL}?q={filtre}", headers=headers).json
    assert len(body["result"]) == 25
    assert "ix_candidature_etab_liste" in assert_on_indexes(seen, tables=("candidature",))


def test_openapi_spec_says_the_contract(app, world, api_token):
    spec = app.test_client().get("/api/v1/_openapi",
                                 headers=api_token("utilisateur_etablissement_a")).json
    operation = spec["paths"]["/api/v1/candidature/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "apres"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"count", "count_exact", "next", "page", "page_size", "ids",
            "result"} <= set(body["properties"])
    assert body["properties"]["result"]["items"]["$ref"] == \
        "#/components/schemas/CandidatureApi.get_list"
    assert "CandidatureApi.get_list" in spec["components"]["schemas"]
    assert "count_exact" in operation["description"] and "apres" in operation["description"]
    assert "400" in operation["responses"]
