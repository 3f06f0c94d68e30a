"""Issue 14, « Make it fast »: what every page repeats is drawn once.

The navigation menu is drawn once for each set of items a user may see and each language
(app/views/menu.py), the templates' gettext finds the catalogue once per request
(app/views/translations.py), and a list builds each row's links from one url_for
(views/pages.pk_url). None of it may show a user what another user sees, nor keep a
language or a tab gate that has changed."""
from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_babel import force_locale, gettext, lazy_gettext

from tests.integration.test_candidatures import habiliter


def menu(page: str) -> str:
    """The menu's HTML: the left-hand list of the navigation bar."""
    start = page.index('<ul class="nav navbar-nav">')
    return page[start:page.index("navbar-right", start)]


def tabs(page: str) -> list[str]:
    """The labels of the menu's top items (categories and links), in order."""
    found = re.findall(r'<a[^>]*>\s*(?:<i[^>]*></i>&nbsp;)?\s*([^<]+?)\s*<b class="caret">',
                       menu(page))
    return [label.strip() for label in found]


def test_each_user_sees_their_own_menu_whoever_drew_one_first(app, world, login):
    certif_pro = login(world.usernames["certif_pro"]).get("/").get_data(as_text=True)
    reseau = login(world.usernames["admin_reseau"]).get("/").get_data(as_text=True)
    again = login(world.usernames["certif_pro"]).get("/").get_data(as_text=True)

    assert "E-mails envoyés" in menu(certif_pro) and "Journal d'audit" in menu(certif_pro)
    assert "E-mails envoyés" not in menu(reseau) and "Journal d'audit" not in menu(reseau)
    assert "Mes établissements" in menu(reseau)
    assert menu(again) == menu(certif_pro)
    assert "Stats" in menu(reseau)  # a link of its own (guide §7), not a dropdown


def test_the_menu_follows_the_language(app, world, login):
    client = login(world.usernames["admin_reseau"])
    french = client.get("/").get_data(as_text=True)
    client.get("/lang/en")
    english = client.get("/").get_data(as_text=True)
    client.get("/lang/fr")
    back = client.get("/").get_data(as_text=True)

    assert "Gestion" in tabs(french) and "Management" not in menu(french)
    assert "Gestion" not in tabs(english) and "Mes établissements" not in menu(english)
    assert menu(back) == menu(french)


def test_the_evaluations_tab_opens_with_the_habilitation(app, world, login):
    """The tab's gate (menu_cond) is asked on each page: the menu drawn without the tab is
    not the one shown once the établissement is habilitated."""
    client = login(world.usernames["utilisateur_etablissement"])
    before = client.get("/").get_data(as_text=True)
    habiliter(world, "etab_a1")
    after = client.get("/").get_data(as_text=True)

    assert "Évaluations" not in tabs(before)
    assert "Évaluations" in tabs(after)
    assert client.get("/evaluations/").status_code == 200


def test_an_anonymous_visitor_gets_no_menu(app):
    page = app.test_client().get("/login/").get_data(as_text=True)
    assert tabs(page) == [] and "Mes établissements" not in page


@pytest.mark.usefixtures("world")
def test_templates_translate_in_the_language_in_force(app):
    """The catalogue kept for the request is not the one of a locale forced for a moment
    (an e-mail in its recipient's language) nor kept after it: in the templates, in Python
    and in the lazy strings of forms and menus."""
    template = "{{ _('Aide') }} {{ ngettext('%(num)d dossier', '%(num)d dossiers', 2) }}"
    aide = lazy_gettext("Aide")
    with app.test_request_context("/"):
        assert render_template_string(template) == "Aide 2 dossiers"
        assert (gettext("Aide"), str(aide)) == ("Aide", "Aide")
        with force_locale("en"):
            assert render_template_string(template) == "Help 2 files"
            assert (gettext("Aide"), str(aide)) == ("Help", "Help")
        assert render_template_string(template) == "Aide 2 dossiers"
        assert (gettext("Aide"), str(aide)) == ("Aide", "Aide")


def test_row_links_are_those_of_url_for(app):
    from flask import url_for

    from app.views.pages import pk_url

    with app.test_request_context("/", base_url="https://clea.example/sous/"):
        link = pk_url("CandidatureView.fiche")
        for pk in (1, 58, 2_147_483_647):
            assert link(pk) == url_for("CandidatureView.fiche", pk=pk)
        assert link(7).startswith("/sous/")
