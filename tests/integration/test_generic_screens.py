"""The generated management screens (lists, fiches, forms of Gestion) read in French: one h1
per page, French filter operators, coded columns searched by their French labels, no
« __None », native date inputs, the guide's eye / pencil / bin, a delete question naming the
record, and a save that lands on the record's page."""
from __future__ import annotations

import datetime as dt
import html
import json
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Actualite, Etablissement
from app.services import habilitations
from app.services import structure
from tests.conftest import BACKENDS
from tests.world import user

TODAY = dt.date.today()


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def h1s(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip()
            for m in re.findall(r"<h1\b[^>]*>(.*?)</h1>", page, re.S)]


def search_widget(page: str) -> dict:
    """The arguments FAB's search widget hands to ab_filters.js: labels, form fields (HTML),
    the operators of each column, the active filters."""
    match = re.search(r"new AdminFilters\(\s*'#filter_form',\s*\n(.*?)\n\s*\);", page, re.S)
    assert match, "no search widget on the page"
    labels, fields, operators, active = [json.loads(line.strip().rstrip(","))
                                         for line in match.group(1).split("\n")]
    return {"labels": labels, "fields": fields, "operators": operators, "active": active}


def listed(page: str) -> list[str]:
    """The records' names of a generated list, read from the eye buttons' labels."""
    return re.findall(r'<span class="sr-only">Visualiser (.*?)</span>', page)


def hab(world, etab, decision=None):
    hab = habilitations.demander({"etablissement_id": world.ids[etab]}, None)
    if decision == "validee":
        habilitations.decider(hab, {"decision": "validee", "date_debut": TODAY,
                                    "date_fin": TODAY + dt.timedelta(days=365)},
                              user("certif_pro_a"))
    elif decision == "rejetee":
        habilitations.decider(hab, {"decision": "rejetee", "motif": "Locaux non conformes"},
                              user("certif_pro_a"))
    return hab


def test_list_show_edit_and_add_pages_have_one_french_h1(app, world, login):
    client = login("certif_pro_a")
    etab = world.ids["etab_a1"]
    org = world.ids["org_a1"]
    expected = {
        "/etablissementview/list/": "Mes établissements",
        f"/etablissementview/show/{etab}": "Visualiser l'établissement",
        f"/etablissementview/edit/{etab}": "Modifier l'établissement",
        "/etablissementview/add": "Créer un établissement",
        "/organismeview/list/": "Mes organismes",
        f"/organismeview/show/{org}": "Fiche organisme",
        f"/organismeview/edit/{org}": "Modifier l'organisme",
        "/reseauview/list/": "Mon réseau",
        f"/reseauview/edit/{world.ids['reseau_a']}": "Modifier le réseau",
        "/utilisateurview/list/": "Mes utilisateurs",
        f"/utilisateurview/show/{world.ids['admin_etablissement_a']}": "Fiche utilisateur",
        f"/utilisateurview/edit/{world.ids['admin_etablissement_a']}": "Modifier l'utilisateur",
        "/habilitationview/list/": "Habilitations",
        "/actualiteview/list/": "Actualités",
        "/actualiteview/add": "Publier une actualité",
        "/emailenvoyeview/list/": "E-mails envoyés",
    }
    for url, title in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert h1s(T(response)) == [title], url


def test_generated_screens_have_french_titles_and_labels(app):
    """No FAB default (« List Etablissement », « Created On »...) on our screens: every column
    shown, searched or edited has a label of our own, every reachable title is set."""
    from app.views.base import ScopedModelView

    views = [v for v in app.appbuilder.baseviews if isinstance(v, ScopedModelView)]
    assert len(views) >= 6
    missing = []
    for view in views:
        own = type(view).label_columns or {}
        forms = {**(view.add_form_extra_fields or {}), **(view.edit_form_extra_fields or {})}
        for attr in ("list_columns", "show_columns", "search_columns", "add_columns",
                     "edit_columns", "order_columns"):
            for column in getattr(view, attr) or []:
                form_label = getattr(getattr(view.add_form, column, None), "args", None)
                if column not in own and column not in forms and not form_label:
                    missing.append(f"{type(view).__name__}.{attr}: {column}")
        for title in ("list_title", "show_title", "add_title", "edit_title"):
            text = str(getattr(view, title))
            if re.match(r"(List|Show|Add|Edit) ", text):
                missing.append(f"{type(view).__name__}.{title} = {text!r}")
    assert not missing, missing


def test_filter_operators_are_french(app, world, login):
    page = T(login("certif_pro_a").get("/etablissementview/list/"))
    operators = search_widget(page)["operators"]
    assert operators["nom"] == [
        "Commence par", "Se termine par", "Contient", "Égal à", "Ne commence pas par",
        "Ne se termine pas par", "Ne contient pas", "Différent de", "Parmi", "Hors de"]
    page = T(login("certif_pro_a").get("/habilitationview/list/"))
    assert search_widget(page)["operators"]["date_fin"] == [
        "Égal à", "Supérieur à", "Inférieur à", "Différent de"]
    for wrong in ("Egal à", "Inferieur à", "Different de", "Ne finis pas par", '"In"',
                  '"Not In"', "Equal to", "Starts with"):
        assert wrong not in page


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_etat_filter_offers_french_states_and_filters_on_them(app, world, login):
    hab(world, "etab_a1", "validee")
    hab(world, "etab_a2", "rejetee")
    hab(world, "etab_b1")
    client = login("certif_pro_a")
    page = T(client.get("/habilitationview/list/"))
    widget = search_widget(page)
    assert widget["labels"]["statut"] == "État"
    assert widget["operators"]["statut"] == ["Égal à", "Différent de"]
    field = widget["fields"]["statut"]
    assert field.startswith("<select")
    assert re.findall(r'<option[^>]*value="(\w+)"[^>]*>([^<]*)</option>', field) == [
        ("en_attente", "En attente"), ("validee", "Validée"), ("rejetee", "Rejetée"),
        ("expiree", "Expirée")]

    def names(query):
        return sorted(listed(T(client.get(f"/habilitationview/list/?{query}"))))

    assert names("_flt_0_statut=validee") == ["ETAB_A1 — CléA socle (Certif Pro)"]
    assert names("_flt_0_statut=rejetee") == ["ETAB_A2 — CléA socle (Certif Pro)"]
    assert names("_flt_1_statut=validee") == ["ETAB_A2 — CléA socle (Certif Pro)",
                                              "ETAB_B1 — CléA socle (Certif Pro)"]
    assert names("_flt_0_statut=Validée") == []  # a label typed by hand matches no code
    assert names("_flt_0_portee=national") == names("")
    # The same for the yes/no and region columns of « Mes établissements ».
    structure.update_etablissement(db.session.get(Etablissement, world.ids["etab_a2"]),
                                   {"actif": False}, user("certif_pro_a"))
    etabs = T(client.get("/etablissementview/list/?_flt_0_actif=0"))
    assert listed(etabs) == ["ETAB_A2"]
    assert sorted(listed(T(client.get("/etablissementview/list/?_flt_0_region=IDF")))) == [
        "ETAB_A1", "ETAB_B1"]
    assert "Auvergne-Rhône-Alpes" in search_widget(etabs)["fields"]["region"]


def test_no_none_option_in_selects(app, world, login):
    client = login("certif_pro_a")
    for url in ("/organismeview/add", f"/organismeview/edit/{world.ids['org_a1']}",
                "/habilitationview/add"):
        page = T(client.get(url))
        options = re.findall(r"<option[^>]*>([^<]*)</option>", page)
        assert "__None" not in options, url
        assert "— Aucun —" in options, url


def test_saving_an_edit_or_a_creation_lands_on_the_record(app, world, login):
    client = login("certif_pro_a")
    etab = db.session.get(Etablissement, world.ids["etab_a1"])
    form = {"organisme": str(etab.organisme_id), "nom": "ETAB_A1 Paris", "siret": etab.siret,
            "region": etab.region, "ville": "Paris", "actif": "y"}
    response = client.post(f"/etablissementview/edit/{etab.id}", data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/etablissementview/show/{etab.id}")
    page = T(client.get(response.headers["Location"]))
    assert "Modifications enregistrées." in page and "ETAB_A1 Paris" in page
    # From the « Établissements » tab of the fiche organisme: the établissement's own page.
    response = client.post(f"/etablissementsorganismeview/edit/{etab.id}", data=form)
    assert response.headers["Location"].endswith(f"/etablissementview/show/{etab.id}")
    org = world.ids["org_a1"]
    response = client.post(f"/organismeview/edit/{org}", data={
        "raison_sociale": "ORG_A1 RENOMMÉ", "siren": db.session.get(
            Etablissement, world.ids["etab_a1"]).organisme.siren,
        "reseau": str(world.ids["reseau_a"]), "actif": "y"})
    assert response.headers["Location"].endswith(f"/organismeview/show/{org}")
    response = client.post("/actualiteview/add", data={
        "titre": "Nouvelle version du référentiel", "texte": "Lisez-la.",
        "publie_le": TODAY.isoformat()})
    created = db.session.execute(select(Actualite)).scalars().one()
    assert response.headers["Location"].endswith(f"/actualiteview/show/{created.id}")
    response = client.post(f"/actualiteview/edit/{created.id}", data={
        "titre": "Nouvelle version", "texte": "Lisez-la.", "publie_le": TODAY.isoformat()})
    assert response.headers["Location"].endswith(f"/actualiteview/show/{created.id}")


def test_dates_are_native_inputs_read_back_the_french_way(app, world, login):
    client = login("certif_pro_a")
    page = T(client.get("/actualiteview/add"))
    assert re.search(r'<input[^>]*type="date"[^>]*name="publie_le"|'
                     r'<input[^>]*name="publie_le"[^>]*type="date"', page)
    assert "appbuilder_date" not in page and "yyyy-MM-dd" not in page
    widget = search_widget(T(client.get("/habilitationview/list/")))
    assert 'type="date"' in widget["fields"]["date_fin"]
    assert "appbuilder_date" not in widget["fields"]["date_fin"]
    client.post("/actualiteview/add", data={"titre": "Jury de décembre", "texte": "Dates.",
                                            "publie_le": "2026-12-01",
                                            "expire_le": "2026-12-31"})
    item = db.session.execute(select(Actualite)).scalars().one()
    assert item.publie_le == dt.date(2026, 12, 1)
    shown = T(client.get(f"/actualiteview/show/{item.id}"))
    assert "01/12/2026" in shown and "31/12/2026" in shown
    edit = T(client.get(f"/actualiteview/edit/{item.id}"))
    assert 'value="2026-12-01"' in edit  # what <input type="date"> reads


def test_list_buttons_are_eye_pencil_bin_and_the_bin_names_the_record(app, world, login):
    page = T(login("certif_pro_a").get("/etablissementview/list/"))
    crud = re.findall(r'<div class="btn-group btn-group-xs clea-crud".*?</div>', page, re.S)
    assert crud and all("fa-search" not in row for row in crud)
    assert all("fa-eye" in row and "fa-pencil" in row for row in crud)
    # the bin only where the service would delete (ETAB_A1 has users; ETAB_A1B has nothing)
    assert any("fa-trash" in row for row in crud)
    assert '<span class="sr-only">Visualiser ETAB_A1</span>' in page
    assert '<span class="sr-only">Modifier ETAB_A1</span>' in page
    assert '<span class="sr-only">Supprimer ETAB_A1</span>' not in page
    assert 'data-question="Supprimer l\'établissement « ETAB_A1B » ?"' in page
    modal = re.search(r'<div class="modal fade" id="modal-confirm".*?</div>\s*</div>\s*</div>',
                      page, re.S).group(0)
    assert ">Annuler</button>" in modal and ">Supprimer</a>" in modal
    assert "Cancel" not in modal and ">OK<" not in modal
