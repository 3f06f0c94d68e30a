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
    # Notification centre, habilitations, the Évaluations tab and the public directory.
    pytest.param("admin.organisme", "/notifications/?lu=tous", id="notifications"),
    pytest.param("admin.organisme", "/profil/", id="profil"),
    pytest.param("admin.organisme", "/aide/", id="aide-contact"),
    pytest.param("certifpro", "/habilitationview/list/", id="habilitations"),
    pytest.param("certifpro", "/habilitationview/show/4", id="decision-habilitation"),
    pytest.param("utilisateur.organisme", "/evaluations/", id="evaluations"),
    pytest.param("utilisateur.organisme", "/candidature/nouvelle", id="proposer-candidature"),
    pytest.param("utilisateur.organisme", "/recherche/?q=du", id="recherche"),
    pytest.param("utilisateur.organisme", "/rattachements/", id="rattachements"),
    pytest.param(None, "/annuaire/", id="annuaire"),
    pytest.param("utilisateur.etablissement", "/certification/", id="calendrier-jurys"),
    pytest.param("jury", "/jury/", id="sessions-jury"),
    pytest.param("certifpro", "/jury/nouvelle", id="programmer-session"),
    pytest.param("certifpro", "/jury/session/2", id="session-jury"),
    pytest.param("certifpro", "/envois/", id="envois-certificats"),
    pytest.param(None, "/verifier/CLEA-2000-000001", id="verification-inconnue"),
    pytest.param("certifpro", "/stats/", id="statistiques"),
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
