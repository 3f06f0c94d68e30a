"""Organismes and établissements: validation in French, nothing written on refusal, the
"actif" flag reserved to Certif Pro, and the guide's create-and-continue buttons."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Etablissement, Organisme
from app.services import structure
from app.services.errors import ForbiddenError, RuleError
from tests.conftest import BACKENDS
from tests.world import siren, siret, user


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_invalid_and_duplicate_siret_refused_and_input_kept(app, world, login):
    client = login(world.usernames["admin_organisme"])
    before = count(Etablissement)
    form = {"organisme": str(world.ids["org_a1"]), "nom": "ORG_A1 Lille", "siret": "12345678901234",
            "region": "HDF", "ville": "Lille"}
    response = client.post("/etablissementview/add", data=form)
    assert response.status_code == 200
    assert "SIRET invalide" in T(response) and 'value="ORG_A1 Lille"' in T(response)
    duplicate = {**form, "siret": siret(siren(11111111), 1)}
    response = client.post("/etablissementview/add", data=duplicate)
    assert "Un établissement avec ce SIRET existe déjà" in T(response)
    foreign = {**form, "siret": siret(siren(33333333), 7)}
    response = client.post("/etablissementview/add", data=foreign)
    assert "Le SIRET doit commencer par le SIREN de l'organisme" in T(response)
    assert count(Etablissement) == before
    ok = {**form, "siret": siret(siren(11111111), 9), "_then": "autre"}
    response = client.post("/etablissementview/add", data=ok)
    assert response.status_code == 302
    assert f"_flt_0_organisme={world.ids['org_a1']}" in response.headers["Location"]
    assert count(Etablissement) == before + 1


def test_organisme_create_then_add_etablissement(app, world, login):
    client = login(world.usernames["superviseur_reseau"])
    response = client.post("/organismeview/add", data={
        "raison_sociale": "NOUVEL OF", "siren": siren(44444444), "_then": "etablissement"})
    assert response.status_code == 302
    created = db.session.execute(select(Organisme).where(
        Organisme.raison_sociale == "NOUVEL OF")).scalar_one()
    assert created.reseau_id == world.ids["reseau_a"] and created.actif is True
    assert f"/etablissementview/add?_flt_0_organisme={created.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert "Bonne pratique" in T(page)


def test_bad_siren_nda_email_refused(app, world):
    by = user(world.usernames["admin_reseau"])
    cases = [({"raison_sociale": "X", "siren": "123"}, "SIREN invalide"),
             ({"raison_sociale": "X", "siren": siren(11111111)}, "SIREN existe déjà"),
             ({"raison_sociale": "X", "siren": siren(55555555), "nda": "12"}, "NDA"),
             ({"raison_sociale": "X", "siren": siren(55555555), "contact_email": "x@"},
              "Adresse e-mail invalide"),
             ({"raison_sociale": "", "siren": siren(55555555)}, "obligatoire")]
    before = count(Organisme)
    for data, message in cases:
        with pytest.raises(RuleError, match=message):
            structure.create_organisme(data, by)
        db.session.rollback()
    assert count(Organisme) == before


def test_only_certif_pro_changes_actif(app, world, login):
    etab = db.session.get(Etablissement, world.ids["etab_a1"])
    with pytest.raises(ForbiddenError, match="Seul Certif Pro"):
        structure.set_actif(etab, False, user(world.usernames["admin_reseau"]))
    db.session.rollback()
    structure.set_actif(etab, False, user(world.usernames["certif_pro"]))
    assert db.session.get(Etablissement, world.ids["etab_a1"]).actif is False
    # The form of a réseau admin has no "actif" field, and posting one changes nothing.
    client = login(world.usernames["admin_reseau"])
    page = T(client.get(f"/organismeview/edit/{world.ids['org_a1']}"))
    assert 'name="actif"' not in page
    client.post(f"/organismeview/edit/{world.ids['org_a1']}", data={
        "raison_sociale": "ORG_A1", "siren": siren(11111111), "actif": ""})
    db.session.expire_all()
    assert db.session.get(Organisme, world.ids["org_a1"]).actif is True
    page = T(login(world.usernames["certif_pro"]).get(f"/organismeview/edit/{world.ids['org_a1']}"))
    assert 'name="actif"' in page


def test_home_explains_why_an_organisme_cannot_operate(app, world, login):
    org = db.session.get(Organisme, world.ids["org_a1"])
    structure.set_actif(org, False, None)
    page = T(login(world.usernames["utilisateur_etablissement"]).get("/"))
    assert "L'organisme est inactif" in page


def test_reseau_admin_edits_the_head_contact_not_the_name(app, world, login):
    client = login(world.usernames["admin_reseau"])
    response = client.post(f"/reseauview/edit/{world.ids['reseau_a']}", data={
        "contact_nom": "Nouvelle Tête", "contact_email": "tete@reseau.fr"})
    assert response.status_code == 302
    db.session.expire_all()
    reseau = structure.db.session.get(structure.Reseau, world.ids["reseau_a"])
    assert reseau.contact_nom == "Nouvelle Tête" and reseau.nom == "Réseau A"


def test_list_pages_issue_bounded_queries(app, world, login, count_queries):
    """The number of SQL statements of a list page does not grow with its rows."""
    client = login(world.usernames["certif_pro"])
    by = user(world.usernames["certif_pro"])
    seq = iter(range(1000))

    def add_rows(n):
        for _ in range(n):
            i = next(seq)
            org = structure.create_organisme({"raison_sociale": f"OF {i}",
                                              "siren": siren(60000000 + i),
                                              "reseau_id": world.ids["reseau_a"]}, by)
            from app.services import accounts
            accounts.create_user({"username": f"user{i}", "first_name": "U", "last_name": str(i),
                                  "email": f"u{i}@of.fr", "role": "admin_organisme",
                                  "organisme_id": org.id}, by=None, password="Xx-123456789!")

    counts = {}
    for size in (20, 60):
        add_rows(size - (0 if not counts else 20))
        for view, page_arg in (("organismeview", "psize_OrganismeView"),
                               ("utilisateurview", "psize_UtilisateurView")):
            client.get(f"/{view}/list/?{page_arg}=100")  # warm-up (first-request caches)
            with count_queries() as counter:
                response = client.get(f"/{view}/list/?{page_arg}=100")
            assert response.status_code == 200
            counts.setdefault(view, []).append(counter.count)
    for view, (small, large) in counts.items():
        assert large == small, (view, small, large)


def test_fiche_organisme_lists_its_etablissements_with_edit_button(app, world, login):
    client = login(world.usernames["admin_organisme"])
    page = T(client.get(f"/organismeview/show/{world.ids['org_a1']}"))
    assert ">Établissements<" in page and "ETAB_A1" in page and "ETAB_A1B" in page
    assert "ETAB_A2" not in page
    assert f"/organismeview/edit/{world.ids['org_a1']}" in page and "Modifier" in page
    page = T(login(world.usernames["utilisateur_organisme"]).get(
        f"/organismeview/show/{world.ids['org_a1']}"))
    assert f"/organismeview/edit/{world.ids['org_a1']}" not in page
