"""axe-core on the pages everyone sees: no "serious" or "critical" violation.

axe.min.js ships with axe-playwright-python (no network). Moderate/minor findings are left
to review (FAB's generated list/form pages have no <h1>, for instance)."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

BLOCKING = ("serious", "critical")

PAGES = [
    pytest.param(None, "/login/", id="connexion"),
    pytest.param("certifpro", "/", id="accueil-certifpro"),
    pytest.param("utilisateur.etablissement", "/", id="accueil-utilisateur.etablissement"),
    # The generated CRUD screens, with a Select2 field (Région) and a search panel.
    pytest.param("admin.reseau", "/organismeview/list/", id="liste-organismes"),
    pytest.param("admin.reseau", "/organismeview/add", id="formulaire-organisme"),
    pytest.param("admin.reseau", "/etablissementview/add", id="formulaire-etablissement"),
]


@pytest.fixture(scope="session")
def axe():
    return Axe()


def describe(violations) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:5])
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']}) → {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("username, path", PAGES)
def test_no_serious_accessibility_violation(page, sign_in, axe, username, path):
    if username:
        sign_in(page, username)
    page.goto(path)
    page.wait_for_load_state("load")
    results = axe.run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe sur {path} :\n{describe(blocking)}"
