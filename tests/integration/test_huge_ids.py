"""Ids and page numbers beyond any row never cost a 500 (hostile input): an id in the URL past
the ids' range answers 404 on every route (FAB's show pages and REST items included; the
database would refuse such a number), a page number past any list shows the list."""
from __future__ import annotations

import re

import pytest

from tests.conftest import BACKENDS

HUGE = "99999999999999999999"


def _id_routes(app) -> list[str]:
    """Every GET route whose arguments are ids (pk, *_id), filled with HUGE."""
    paths = []
    for rule in app.url_map.iter_rules():
        ids = [a for a in rule.arguments if a == "pk" or a.endswith("_id")]
        if "GET" not in rule.methods or not ids or set(rule.arguments) - set(ids):
            continue
        paths.append(re.sub(r"<(?:[a-z]+:)?[a-z_]+>", HUGE, rule.rule))
    return sorted(paths)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_huge_ids_answer_404_never_500(app, world, login):
    client = login("certif_pro_a")
    paths = _id_routes(app)
    assert len(paths) > 20, paths
    answers = {path: client.get(path).status_code for path in paths}
    assert not [p for p, code in answers.items() if code >= 500], answers
    for path in (f"/candidature/{HUGE}", f"/evaluation/{HUGE}",
                 f"/api/v1/candidature/{HUGE}", f"/etablissementview/show/{HUGE}"):
        assert answers[path] == 404, (path, answers[path])
    api = client.get(f"/api/v1/candidature/{HUGE}")
    assert "introuvable" in api.get_json()["message"]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_a_page_number_past_any_list_shows_the_list(app, world, login):
    client = login("certif_pro_a")
    for page in (HUGE, "-3", "abc"):
        response = client.get(f"/evaluations/?page={page}")
        assert response.status_code == 200, page
        assert "Évaluations" in response.text
