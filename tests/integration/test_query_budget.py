"""Issue 14, « Make it fast »: every page has a query budget (DESIGN.md §10: ≤ 15 SQL
statements whatever the data). The user's permissions are loaded once per request, the
habilitation gate is computed once, and no list, search or dossier page costs a query per row.

Each page is counted with 30 rows of each kind (every list has two pages), then again after
90 more rows (five pages): the count stays under the budget and does not move. Each counted
request starts from a fresh database session, as in production (the user, their roles).

Measured on SQLite with 30 rows, before → after this work: home 36–42 → 10–13, Évaluations
list 37 → 9 (its count and pager are another item's), national search 45–50 and two or
three more per hit → 7–9, page CANDIDAT 45 → 14, grid 48 → 10, FAB lists 31–40 → 6–8,
API lists 10 → 8."""
from __future__ import annotations

import datetime as dt
import html
import itertools

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Etablissement, FabRole, Notification, Utilisateur
from app.models.candidature import Candidature
from app.models.evaluation import Evaluation
from app.models.habilitation import Habilitation
from app.models.jury import SessionJury
from app.models.rattachement import Rattachement
from app.models.referentiel import Referentiel
from app.security import roles as R
from app.services import notifications
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import habiliter
from tests.integration.test_list_pages import bulk_dossiers
from tests.world import siren, siret, user

BUDGET = 15
BASE = dt.datetime(2026, 1, 5, 9, 0)
NIC = itertools.count(500)

# Every evaluation without results gets the référentiel's 28 lines, in one statement.
RESULTS = """
INSERT INTO resultat_evaluation (evaluation_id, sous_domaine_id, acquis)
SELECT e.id, sd.id, (e.id + sd.id) % 3 = 0
FROM evaluation e CROSS JOIN sous_domaine sd
WHERE NOT EXISTS (SELECT 1 FROM resultat_evaluation r WHERE r.evaluation_id = e.id)
"""
# Every dossier without an evaluation gets a préalable in progress, in one statement.
EVALUATIONS = """
INSERT INTO evaluation (candidature_id, referentiel_id, type, statut, evaluateur, version,
                        created_on)
SELECT c.id, :referentiel, 'prealable', 'en_cours', 'Évaluateur', 1, :now
FROM candidature c
WHERE NOT EXISTS (SELECT 1 FROM evaluation e WHERE e.candidature_id = c.id)
"""


def charger(world, start: int, count: int) -> None:
    """`count` more rows of every kind a page lists: dossiers (each with an evaluation of 28
    results), namesakes found by the national search (half of them outside the perimeter),
    établissements with their habilitation, users, notifications, jury sessions and
    rattachement requests."""
    bulk_dossiers(world.ids["etab_a1"], f"BUDGET{start:03d}", count)
    half = count // 2
    bulk_dossiers(world.ids["etab_a1"], f"HOMONYME{start:03d}A", half // 5)
    outside = bulk_dossiers(world.ids["etab_b1"], f"HOMONYME{start:03d}B", half // 5)
    referentiel = db.session.scalar(select(Referentiel.id).order_by(Referentiel.id).limit(1))
    db.session.execute(text(EVALUATIONS), {"referentiel": referentiel, "now": BASE})
    db.session.execute(text(RESULTS))
    today = dt.date.today()
    etabs = [Etablissement(nom=f"SITE {start + i:03d}", organisme_id=world.ids["org_a1"],
                           siret=siret(siren(11111111), next(NIC)), region="IDF", actif=True,
                           ville="Paris") for i in range(count)]
    db.session.add_all(etabs)
    db.session.flush()
    db.session.add_all([Habilitation(
        etablissement_id=e.id, portee="national", branche_key=0, statut="validee",
        date_debut=today - dt.timedelta(days=1), date_fin=today + dt.timedelta(days=365),
        demande_le=BASE + dt.timedelta(minutes=start + i)) for i, e in enumerate(etabs)])
    role = db.session.scalars(select(FabRole).where(
        FabRole.name == R.ADMIN_ORGANISME.name)).one()
    db.session.add_all([Utilisateur(
        username=f"zz{start + i:03d}", first_name="Zoé", last_name=f"zz{start + i:03d}",
        email=f"zz{start + i:03d}@of.fr", active=True, password="!",
        organisme_id=world.ids["org_a1"], roles=[role]) for i in range(count)])
    me = user("utilisateur_etablissement_a")
    db.session.add_all([Notification(user_id=me.id, rubrique=notifications.HABILITATION,
                                     titre=f"Avis {start + i:03d}", texte="Texte",
                                     created_on=BASE + dt.timedelta(minutes=start + i))
                        for i in range(count)])
    first = dt.date(2025, 1, 6)
    db.session.add_all([SessionJury(
        certificateur_id=world.ids["tp_idf"], date_session=first + dt.timedelta(days=start + i),
        date_limite=first + dt.timedelta(days=start + i - 10), mode="distanciel",
        lieu=f"Salle {start + i:03d}", statut="close") for i in range(count)])
    moving = bulk_dossiers(world.ids["etab_b1"], f"RATTACHE{start:03d}", count)
    db.session.add_all([Rattachement(
        candidature_id=c.id, etablissement_origine_id=world.ids["etab_b1"],
        etablissement_cible_id=world.ids["etab_a1"], motif="demenagement", statut="en_attente",
        demande_par_id=me.id, demande_le=BASE + dt.timedelta(days=start + i))
        for i, c in enumerate(moving)])
    db.session.commit()
    assert outside  # namesakes outside the perimeter: the « Demander le rattachement » rows


def fab(view: str, page: int, **args) -> str:
    extra = "".join(f"&{key}_{view}={value}" for key, value in args.items())
    return f"/{view.lower()}/list/?page_{view}={page}{extra}"


def pages(world) -> dict[tuple[str, str], str]:
    """(who, what) → the URL counted."""
    dossier = db.session.scalar(
        select(Candidature.id).where(Candidature.etablissement_id == world.ids["etab_a1"])
        .order_by(Candidature.id).limit(1))
    grille = db.session.scalar(select(Evaluation.id).where(Evaluation.candidature_id == dossier))
    etab, cp, ar = ("utilisateur_etablissement_a", "certif_pro_a",
                        "admin_reseau_a")
    return {
        (cp, "accueil"): "/", (ar, "accueil"): "/", (etab, "accueil"): "/",
        (ar, "évaluations page 1"): "/evaluations/",
        (ar, "évaluations page 2"): "/evaluations/?page=1",
        (ar, "évaluations filtrées"): f"/evaluations/?etablissement={world.ids['etab_a1']}"
                                      "&nom=budget&statut=attente_eval_prealable",
        (etab, "évaluations page 1"): "/evaluations/",
        (etab, "recherche nationale"): "/recherche/?q=homonyme",
        (cp, "recherche nationale"): "/recherche/?q=homonyme",
        (etab, "page CANDIDAT"): f"/candidature/{dossier}",
        (etab, "grille"): f"/evaluation/{grille}",
        (cp, "établissements page 1"): fab("EtablissementView", 0),
        (cp, "établissements page 2"): fab("EtablissementView", 1),
        (cp, "établissements triés"): fab("EtablissementView", 1, _oc="nom", _od="desc"),
        (ar, "établissements page 2"): fab("EtablissementView", 1),
        (cp, "organismes page 1"): fab("OrganismeView", 0),
        (cp, "habilitations page 1"): fab("HabilitationView", 0),
        (cp, "habilitations page 2"): fab("HabilitationView", 1),
        (cp, "utilisateurs page 1"): fab("UtilisateurView", 0),
        (cp, "utilisateurs page 2"): fab("UtilisateurView", 1),
        (ar, "utilisateurs page 2"): fab("UtilisateurView", 1),
        (etab, "notifications page 1"): "/notifications/",
        (etab, "notifications page 2"): "/notifications/?page=1",
        (cp, "sessions de jury page 1"): "/jury/",
        (cp, "sessions de jury page 2"): "/jury/?page=1",
        (etab, "rattachements page 1"): "/rattachements/",
        (etab, "rattachements page 2"): "/rattachements/?page=1",
        (cp, "rattachements page 2"): "/rattachements/?page=1",
    }


API = {
    "API candidatures page 1": "/api/v1/candidature/",
    "API candidatures page 2": "/api/v1/candidature/?q=(page:1,page_size:25)",
    "API évaluations page 1": "/api/v1/evaluation/",
    "API évaluations page 2": "/api/v1/evaluation/?q=(page:1,page_size:25)",
}


def count_all(world, login, api_token, count_queries) -> dict[tuple[str, str], int]:
    counts = {}
    clients = {}
    for (who, what), url in pages(world).items():
        client = clients.get(who) or clients.setdefault(who, login(who))
        client.get(url)  # warm-up (first-request caches)
        db.session.remove()  # a fresh session, as each request has in production
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200, (who, what, url, response.status_code)
        counts[(who, what)] = counter.count
    headers = api_token("utilisateur_etablissement_a")
    client = login("utilisateur_etablissement_a")
    for what, url in API.items():
        client.get(url, headers=headers)
        db.session.remove()
        with count_queries() as counter:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (what, url, response.status_code, response.json)
        assert response.json["result"], what
        counts[("utilisateur_etablissement_a", what)] = counter.count
    return counts


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_every_page_within_the_budget_whatever_the_rows(app, world, login, api_token,
                                                        count_queries):
    habiliter(world, "etab_a1")
    charger(world, 0, 30)
    few = count_all(world, login, api_token, count_queries)
    charger(world, 30, 90)
    assert db.session.scalar(select(func.count(Candidature.id))) > 240
    many = count_all(world, login, api_token, count_queries)
    table = "\n".join(f"{who:28} {what:28} {few[key]:3d} {many[key]:3d}"
                      for key in few for who, what in [key])
    over = {key: count for key, count in many.items() if count > BUDGET}
    assert not over, f"au-delà de {BUDGET} requêtes :\n{table}"
    assert few == many, f"le nombre de requêtes dépend du nombre de lignes :\n{table}"


def test_permissions_and_habilitation_gate_read_once_per_request(app, world, login,
                                                                 count_queries):
    """FAB asked the database for each menu item and each button (23 statements a page), and
    the Évaluations tab's habilitation gate was asked 4 times (menu, tab guard, page)."""
    habiliter(world, "etab_a1")
    charger(world, 0, 30)
    client = login("admin_reseau_a")
    client.get("/evaluations/")
    db.session.remove()
    with count_queries() as counter:
        response = client.get("/evaluations/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Mes établissements" in page and "Candidatures abandonnées" in page  # the menu
    assert "E-mails envoyés" not in page  # Certif Pro's only
    permissions = [s for s in counter.statements if "ab_permission" in s]
    gates = [s for s in counter.statements if "FROM habilitation" in s]
    assert len(permissions) == 1, permissions
    assert len(gates) == 1, gates


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_user_roles_and_bell_count_in_one_statement(app, world, login, api_token,
                                                    count_queries):
    """Every page read the user, then their roles, then the bell (three statements before
    anything of the page): now the user comes with their roles and their unread count in one,
    and the bell reads its latest notifications only when there are some. The badge stays
    right: a notification written earlier in the same request is counted."""
    client = login("admin_etablissement_a")
    client.get("/")
    db.session.remove()
    with count_queries() as counter:
        page = html.unescape(client.get("/").get_data(as_text=True))
    users = [s for s in counter.statements if "ab_user.password" in s]  # the user's row
    assert len(users) == 1 and "ab_user_role" in users[0] and "notification" in users[0], users
    assert not [s for s in counter.statements if "FROM notification" in s.split("FROM ab_user")[0]]
    assert 'data-count="0"' in page and "Aucune nouvelle notification" in page
    notifications.notify([user("admin_etablissement_a")], notifications.CERTIFICATION,
                         "Dossier certifié", "Texte")
    db.session.commit()
    db.session.remove()
    with count_queries() as counter:
        page = html.unescape(client.get("/").get_data(as_text=True))
    assert 'data-count="1"' in page and "Dossier certifié" in page
    # the same request notifies then renders the bell: the count read with the user is dropped
    with app.test_request_context("/"):
        from app.security.request_cache import remember

        me = user("admin_etablissement_a")
        remember(("non_lues", me.id), 0)
        notifications.notify([me], notifications.CERTIFICATION, "Autre", "Texte")
        db.session.flush()
        count, latest = notifications.cloche(me)
        assert count == 2 and latest[0].titre == "Autre"
        db.session.rollback()
    # an API token's user: the same single statement
    headers = api_token("admin_etablissement_a")
    db.session.remove()
    with count_queries() as counter:
        assert client.get("/api/v1/notification/", headers=headers).status_code == 200
    users = [s for s in counter.statements if "ab_user.password" in s]
    assert len(users) == 1 and "ab_user_role" in users[0], users


def test_search_tells_each_hit_in_one_go(app, world, login, count_queries):
    """The national search read each hit's latest dossier and its perimeter one hit at a
    time; now in two statements, with the same answers: « Consulter » inside the perimeter,
    « Demander le rattachement » outside."""
    habiliter(world, "etab_a1")
    charger(world, 0, 120)  # 24 namesakes, 12 outside the établissement
    client = login("utilisateur_etablissement_a")
    db.session.remove()
    with count_queries() as counter:
        response = client.get("/recherche/?q=homonyme")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "24 candidats" in page
    assert page.count("Consulter le dossier de") == 12
    assert page.count("Demander le rattachement du dossier de") == 12
    assert "ETAB_B1" in page and "ETAB_A1" in page
    assert counter.count <= BUDGET
