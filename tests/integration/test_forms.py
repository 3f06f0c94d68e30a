"""Forms (issue 12, items 3 and 4): « Modifier le dossier » saves for every role above the
établissement; a refused form says why next to the field, under an error summary, and keeps
what was typed; the rules are shown before they bite (asterisk, length hints); the « Mon
profil » pop-up loads the profile form alone and saves in place."""
from __future__ import annotations

import datetime as dt
import html

import lxml.html
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Etablissement, Habilitation
from app.models.candidature import Candidature
from app.services import candidatures as service
from app.services import habilitations, support
from app.services.errors import RuleError
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user

TODAY = dt.date.today()


def T(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def doc(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def group(page, field_id):
    """The form-group (or the generated form's row) around a control: its label, hints and
    errors."""
    control = page.get_element_by_id(field_id)
    return control.xpath("ancestor::*[contains(concat(' ', @class, ' '), ' form-group ') "
                         "or self::tr][1]")[0]


def error_next_to(page, field_id) -> str:
    """The error shown under a field; the control names it (aria-describedby) and is
    marked invalid."""
    control = page.get_element_by_id(field_id)
    errors = group(page, field_id).xpath(".//*[contains(@class, 'clea-error')]")
    assert errors, f"no error next to {field_id}"
    assert control.get("aria-invalid") == "true"
    for error in errors:
        assert error.get("id") in (control.get("aria-describedby") or "").split()
    return " ".join(e.text_content().strip() for e in errors)


def summary(page):
    """The error summary at the top of the form: an alert that takes the focus, with links
    to the fields."""
    boxes = page.xpath("//*[contains(@class, 'clea-error-summary')]")
    assert len(boxes) == 1, "no error summary"
    box = boxes[0]
    assert box.get("role") == "alert" and box.get("tabindex") == "-1"
    return box


def summary_links(page) -> list[str]:
    return [a.get("href") for a in summary(page).xpath(".//a")]


@pytest.fixture
def ready(app, world):
    habiliter(world, "etab_a1", "etab_a1b")
    return world


# --- item 3: « Modifier le dossier » above the établissement ---------------------------------

@pytest.mark.parametrize("username", ["admin_organisme_a", "admin_reseau_a", "certif_pro_a"])
def test_roles_above_etablissement_edit_a_dossier_and_read_it_back(app, ready, login, username):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    client = login(username)
    form = doc(client.get(f"/candidature/{c.id}/modifier"))
    assert not form.xpath("//select[@name='etablissement_id']")  # only a rattachement moves it
    edited = dossier(ready, ville="Villeurbanne", commune_naissance="Lyon 3e",
                     objectif_pro="Devenir cariste en CDI dans un entrepôt de la région.")
    del edited["etablissement_id"]
    response = client.post(f"/candidature/{c.id}/modifier", data=edited)
    assert response.status_code == 302, T(response)
    page = T(client.get(response.headers["Location"]))
    assert "Modifications enregistrées." in page
    assert "Devenir cariste en CDI" in page
    db.session.expire_all()
    saved = db.session.get(Candidature, c.id)
    assert saved.candidat.ville == "Villeurbanne"
    assert saved.candidat.commune_naissance == "Lyon 3e"
    assert saved.etablissement_id == ready.ids["etab_a1"]
    again = doc(client.get(f"/candidature/{c.id}/modifier"))
    assert again.get_element_by_id("ville").get("value") == "Villeurbanne"


# --- item 3: a refused form says why, next to the field, and keeps what was typed ------------

def test_refused_candidature_says_why_next_to_each_field_and_keeps_the_input(app, ready, login):
    client = login("admin_organisme_a")
    response = client.post("/candidature/nouvelle", data=dossier(
        ready, nom_naissance="Martin-Dubois", commune_naissance="", pays_naissance="",
        objectif_pro="Trop court", ville="Pantin"))
    assert response.status_code == 200
    page = doc(response)
    assert "Renseignez « Commune de naissance » ou « Pays de naissance" in error_next_to(
        page, "commune_naissance")
    assert f"au moins {service.OBJECTIF_MIN} caractères" in error_next_to(page, "objectif_pro")
    assert summary_links(page) == ["#commune_naissance", "#objectif_pro"]
    assert page.get_element_by_id("nom_naissance").get("value") == "Martin-Dubois"
    assert page.get_element_by_id("ville").get("value") == "Pantin"
    assert page.get_element_by_id("objectif_pro").text_content().strip() == "Trop court"
    assert db.session.execute(select(func.count()).select_from(Candidature)).scalar_one() == 0


def test_refused_edit_says_why_and_changes_nothing(app, ready, login):
    c = service.creer(dossier(ready), user("utilisateur_etablissement_a"))
    client = login("admin_reseau_a")
    edited = dossier(ready, code_postal="7500", ville="Paris")
    del edited["etablissement_id"]
    response = client.post(f"/candidature/{c.id}/modifier", data=edited)
    page = doc(response)
    assert "Code postal invalide : 5 chiffres attendus." in error_next_to(page, "code_postal")
    assert summary_links(page) == ["#code_postal"]
    assert page.get_element_by_id("code_postal").get("value") == "7500"
    db.session.expire_all()
    assert db.session.get(Candidature, c.id).candidat.ville is None


def test_required_fields_carry_an_asterisk_from_the_service_table(app, ready, login):
    page = doc(login("admin_organisme_a").get("/candidature/nouvelle"))

    def starred(name):
        label = page.xpath(f"//label[@for='{name}']")[0]
        return bool(label.xpath(".//*[contains(@class, 'clea-required')]"))

    assert starred("commune_naissance")
    for name in service.OBLIGATOIRES:
        assert starred(name), name
        assert page.get_element_by_id(name).get("required") is not None, name
    for name in ("nom_usage", "pays_naissance", "email", "ville", "type_public"):
        assert not starred(name), name


@pytest.mark.parametrize("name", list(service.OBLIGATOIRES))
def test_the_service_refuses_each_field_of_its_table(app, ready, name):
    """The asterisks come from service.OBLIGATOIRES: each of its fields is refused empty."""
    data = dossier(ready, **{name: ""})
    if service.OBLIGATOIRES[name]:
        data[service.OBLIGATOIRES[name]] = ""
    with pytest.raises(RuleError) as refused:
        service.creer(data, user("admin_organisme_a"))
    assert refused.value.field == name
    db.session.rollback()


def test_length_rules_are_shown_before_they_bite(app, ready, login):
    page = doc(login("admin_organisme_a").get("/candidature/nouvelle"))
    for name in ("objectif_pro", "objectif_extra_pro"):
        hint = group(page, name).xpath(".//*[contains(@class, 'clea-hint')]")[0]
        assert hint.text_content().strip() == f"{service.OBJECTIF_MIN} caractères minimum."
        assert hint.get("id") in page.get_element_by_id(name).get("aria-describedby").split()
    support_page = doc(login("admin_organisme_a").get("/aide/"))
    hint = group(support_page, "message").xpath(".//*[contains(@class, 'clea-hint')]")[0]
    assert hint.text_content().strip() == (
        f"Entre {support.MIN_LENGTH} et {support.MAX_LENGTH} caractères.")


def test_refused_habilitation_decision_keeps_its_dates(app, world, login):
    hab = habilitations.demander({"etablissement_id": world.ids["etab_a2"]}, None)
    client = login("certif_pro_a")
    debut, fin = TODAY.isoformat(), (TODAY - dt.timedelta(days=10)).isoformat()
    response = client.post(f"/habilitationview/decider/{hab.id}", data={
        "decision": "validee", "date_debut": debut, "date_fin": fin})
    assert response.status_code == 400
    page = doc(response)
    assert "La date de fin doit être postérieure à la date de début." in error_next_to(
        page, "date_fin")
    assert summary_links(page) == ["#date_fin"]
    assert page.get_element_by_id("date_debut").get("value") == debut
    assert page.get_element_by_id("date_fin").get("value") == fin
    db.session.expire_all()
    assert db.session.get(Habilitation, hab.id).statut == "en_attente"
    rejected = doc(client.post(f"/habilitationview/decider/{hab.id}", data={
        "decision": "rejetee", "motif": "  "}))
    assert "Indiquez le motif du rejet." in error_next_to(rejected, "motif")


def test_refused_hand_written_forms_say_why_and_keep_the_input(app, ready, login):
    client = login("admin_organisme_a")
    # support
    response = client.post("/aide/", data={"sujet": "Export", "message": "Aidez", "page": "/"})
    page = doc(response)
    assert response.status_code == 400
    assert "au moins 10 caractères" in error_next_to(page, "message")
    assert page.get_element_by_id("sujet").get("value") == "Export"
    assert page.get_element_by_id("message").text_content().strip() == "Aidez"
    # rattachement request (to the organisme's other établissement)
    other = service.creer(dossier(ready, etab="etab_a1"), user("utilisateur_etablissement_a"))
    response = client.post(f"/rattachements/demander/{other.id}", data={
        "etablissement_cible_id": str(ready.ids["etab_a1b"]), "motif": "",
        "motif_texte": "Le candidat a déménagé à Lyon."})
    page = doc(response)
    assert response.status_code == 400
    assert "Choisissez le motif de la demande." in error_next_to(page, "motif")
    assert page.get_element_by_id("motif_texte").text_content() == "Le candidat a déménagé à Lyon."
    assert page.xpath("//select[@id='etablissement_cible_id']/option[@selected]")[0].get(
        "value") == str(ready.ids["etab_a1b"])
    # abandon motive
    response = client.post(f"/candidature/{other.id}/abandonner", data={"motif": "autre",
                                                                        "texte": ""})
    page = doc(response)
    assert response.status_code == 400
    assert "Précisez le motif de l'abandon." in error_next_to(page, "texte")
    assert page.xpath("//select[@id='motif']/option[@selected]")[0].get("value") == "autre"


def test_refused_jury_session_form_says_why_and_keeps_the_input(app, world, login):
    client = login("certif_pro_a")
    response = client.post("/jury/nouvelle", data={
        "certificateur_id": str(world.ids["tp_idf"]),
        "date_session": (TODAY + dt.timedelta(days=30)).isoformat(),
        "date_limite": (TODAY + dt.timedelta(days=20)).isoformat(),
        "mode": "presentiel", "lieu": "", "membre_nom_0": "Mme Employeur"})
    page = doc(response)
    assert response.status_code == 400
    assert "Indiquez le lieu de la session en présentiel." in error_next_to(page, "lieu")
    assert page.get_element_by_id("membre_nom_0").get("value") == "Mme Employeur"
    assert page.get_element_by_id("date_limite").get("value") == (
        TODAY + dt.timedelta(days=20)).isoformat()


def test_refused_generated_form_has_the_summary_and_the_error_next_to_the_field(app, world,
                                                                               login):
    client = login(world.usernames["admin_organisme"])
    response = client.post("/etablissementview/add", data={
        "organisme": str(world.ids["org_a1"]), "nom": "ORG_A1 Lille",
        "siret": "12345678901234", "region": "HDF", "ville": "Lille"})
    page = doc(response)
    assert "SIRET invalide" in error_next_to(page, "siret")
    assert "#siret" in summary_links(page)
    assert page.get_element_by_id("nom").get("value") == "ORG_A1 Lille"
    label = page.xpath("//label[@for='nom']")[0]
    assert label.xpath(".//*[contains(@class, 'clea-required')]")  # from FAB's validators
    assert db.session.execute(select(func.count()).select_from(Etablissement).where(
        Etablissement.nom == "ORG_A1 Lille")).scalar_one() == 0


def test_refused_password_forms_say_why_next_to_the_field(app, world, login):
    client = login(world.usernames["admin_etablissement"])
    response = client.post("/profil/mot-de-passe", data={
        "current": "faux", "password": "Un-Mot-De-Passe-2026!", "confirm": "Un-Mot-De-Passe-2026!"})
    page = doc(response)
    assert response.status_code == 400
    assert "Mot de passe actuel incorrect." in error_next_to(page, "page-current")
    assert summary_links(page) == ["#page-current"]


# --- item 4: the « Mon profil » pop-up -------------------------------------------------------

def test_profile_popup_loads_the_form_alone(app, world, login):
    client = login(world.usernames["admin_reseau"])
    page = T(client.get("/"))
    assert 'id="clea-profil-modal"' in page and 'data-toggle="modal"' not in page.split(
        "clea-profil-link")[0][-300:]
    fragment = client.get("/profil/?fragment=1")
    assert fragment.status_code == 200
    text = T(fragment)
    assert "<nav" not in text and "<footer" not in text and "<html" not in text
    assert 'action="/profil/enregistrer"' in text and 'id="modal-email"' in text


def test_profile_popup_saves_in_place_with_errors_and_success(app, world, login):
    client = login(world.usernames["admin_reseau"])
    taken = client.post("/profil/enregistrer", data={
        "first_name": "Rachid", "last_name": "Benali", "email": "certif_pro_a@test.fr",
        "telephone": "0102030405", "fragment": "1"})
    assert taken.status_code == 400
    assert "<nav" not in T(taken)
    page = doc(taken)
    assert "déjà utilisée" in error_next_to(page, "modal-email")
    assert summary_links(page) == ["#modal-email"]
    assert page.get_element_by_id("modal-first_name").get("value") == "Rachid"
    assert page.get_element_by_id("modal-telephone").get("value") == "0102030405"
    done = client.post("/profil/enregistrer", data={
        "first_name": "Rachid", "last_name": "Benali", "email": "rb@reseau.fr",
        "telephone": "0102030405", "fragment": "1"})
    assert done.status_code == 200 and "<nav" not in T(done)
    assert "Vos informations sont enregistrées." in T(done)
    me = user(world.usernames["admin_reseau"])
    db.session.refresh(me)
    assert (me.first_name, me.email) == ("Rachid", "rb@reseau.fr")
    prefs = client.post("/profil/notifications", data={"fragment": "1"})
    assert prefs.status_code == 200
    assert "Vos préférences de notification sont enregistrées." in T(prefs)


def test_profile_popup_costs_no_query_on_other_pages(app, world, login, count_queries):
    """The pop-up's body is loaded when opened: pages no longer read the preferences."""
    client = login(world.usernames["admin_reseau"])
    client.get("/")
    with count_queries() as counter:
        client.get("/")
    assert not [s for s in counter.statements if "preference" in s.lower()]

