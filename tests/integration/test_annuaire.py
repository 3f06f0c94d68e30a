"""The public directory (/annuaire/, issue 12 item 14): paged instead of stopping at 500 rows,
searchable by organisme or établissement name and by ville, accents and case ignored (SQLite
and PostgreSQL), and never showing an établissement without a valid habilitation."""
from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models import Etablissement, Organisme
from app.models.habilitation import Habilitation
from app.services import habilitations
from tests.conftest import BACKENDS
from tests.integration.test_list_pages import T, assert_pager, bulk_etablissements, main, walk
from tests.world import siren, siret

TODAY = dt.date.today()


def habilitation(etab: Etablissement, statut="validee", debut=-1, fin=365) -> Habilitation:
    return Habilitation(etablissement_id=etab.id, portee="national", branche_key=0,
                        statut=statut, date_debut=TODAY + dt.timedelta(days=debut),
                        date_fin=TODAY + dt.timedelta(days=fin))


@pytest.fixture
def elan(app, world):
    """An organisme with accents in its name: one habilitated site, and sites that must never
    be listed (no habilitation, expired, rejected, inactive), all matching the searches."""
    org = Organisme(raison_sociale="Formation Élan Côte d'Azur", siren=siren(70000001),
                    reseau_id=world.ids["reseau_a"], actif=True)
    db.session.add(org)
    db.session.flush()
    sites = {}
    for key, nom, nic, actif in (("habilite", "Antenne Sainte-Hélène", 1, True),
                                 ("sans", "Antenne Sans Habilitation", 2, True),
                                 ("expiree", "Antenne Expirée", 3, True),
                                 ("rejetee", "Antenne Rejetée", 4, True),
                                 ("inactif", "Antenne Fermée", 5, False)):
        sites[key] = Etablissement(nom=nom, organisme_id=org.id, region="ARA",
                                   siret=siret(siren(70000001), nic), actif=actif,
                                   ville="Saint-Étienne", code_postal="42000")
    db.session.add_all(sites.values())
    db.session.flush()
    db.session.add_all([habilitation(sites["habilite"]),
                        habilitation(sites["expiree"], debut=-400, fin=-35),
                        habilitation(sites["rejetee"], statut="rejetee"),
                        habilitation(sites["inactif"])])
    db.session.commit()
    return sites


def test_directory_is_paged(app, world):
    """70 habilitated sites: 50 on page 1, the last 20 on page 2 (it stopped at 500 rows)."""
    bulk_etablissements(world, 70)
    bulk_etablissements(world, 3, prefix="NON HABILITE", habilites=False)
    client = app.test_client()  # public: no login
    pages = walk(client, "/annuaire/?region=IDF")
    assert len(pages) == 2
    assert_pager(pages)
    assert "70 établissements habilités" in pages[0]
    assert "SITE 000" in pages[0] and "SITE 049" in pages[0] and "SITE 050" not in pages[0]
    assert "SITE 050" in pages[1] and "SITE 069" in pages[1] and "SITE 049" not in pages[1]
    assert "ORG_A1" in pages[1]  # the organisme of each row
    assert not any("NON HABILITE" in page or "ETAB_A1" in page for page in pages)
    assert "region=IDF" in pages[1]  # the pager keeps the search
    assert "SITE 069" in main(T(client.get("/annuaire/?region=IDF&page=7")))  # past the end


def test_directory_rows_do_not_cost_a_query_each(app, world, count_queries):
    client = app.test_client()
    bulk_etablissements(world, 5)
    client.get("/annuaire/")  # warm-up
    with count_queries() as few:
        client.get("/annuaire/")
    bulk_etablissements(world, 45, prefix="AUTRE")
    with count_queries() as many:
        assert client.get("/annuaire/").status_code == 200
    assert few.count == many.count, (few.count, many.count)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("search", [
    {"nom": "élan"}, {"nom": "ELAN COTE"}, {"nom": "cote d'azur formation"},
    {"nom": "côte  d azur"}, {"nom": "antenne sainte helene"}, {"nom": "HÉLÈNE"},
    {"ville": "saint etienne"}, {"ville": "ÉTIENNE"},
    {"nom": "elan", "ville": "etienne"},
    {"nom": "elan", "region": "ARA"},
])
def test_search_by_organisme_name_ignores_accents_and_case(app, world, elan, search):
    client = app.test_client()
    response = client.get("/annuaire/", query_string=search)
    assert response.status_code == 200
    text = main(T(response))
    assert "Antenne Sainte-Hélène" in text and "Formation Élan Côte d'Azur" in text
    assert "1 établissement habilité" in text
    for never in ("Antenne Sans Habilitation", "Antenne Expirée", "Antenne Rejetée",
                  "Antenne Fermée"):
        assert never not in text
    assert 'for="nom">Organisme ou établissement</label>' in text


@pytest.mark.parametrize("search", [{"nom": "elan", "region": "IDF"}, {"nom": "elane"},
                                    {"nom": "elan", "ville": "lyon"}, {"nom": "sans habilitation"}])
def test_search_without_a_match(app, world, elan, search):
    text = main(T(app.test_client().get("/annuaire/", query_string=search)))
    assert "Aucun établissement habilité ne correspond à votre recherche." in text
    assert "Antenne" not in text.split("</form>", 1)[1]


def test_an_inactive_organisme_hides_its_sites(app, world, elan):
    assert habilitations.annuaire(nom="elan").total == 1
    db.session.get(Organisme, elan["habilite"].organisme_id).actif = False
    db.session.commit()
    assert habilitations.annuaire(nom="elan").total == 0
    assert "Antenne Sainte-Hélène" not in T(app.test_client().get("/annuaire/"))
