"""docs/api.md, « Exemple complet avec requests »: the guide's script (docs/exemple_api.py) run
as an integrator runs it, over HTTP against a live server on the test world — the template
downloaded, the .csv imported in two steps, an evaluation created, filled, given its matrice
and finalized, the dossier sent — and the database then holds what the script printed.
Without a habilitation it stops at the first refusal with the API's French message."""
from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature
from app.models.evaluation import FINALISEE, VALIDE, Document, Evaluation
from app.services import demo
from tests.integration.test_candidatures import habiliter
from tests.serveur import servir
from tests.world import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "exemple_api.py"
OF = "utilisateur_etablissement_a"


def extrait_du_guide() -> str:
    """The Python block of docs/api.md's « Exemple complet avec requests » (the script's
    core, as the guide prints it)."""
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = guide.split("## Exemple complet avec requests", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    return code


def exemple():
    """docs/exemple_api.py as a module (docs/ is no package)."""
    spec = importlib.util.spec_from_file_location("exemple_api", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app_overrides():
    return {"WTF_CSRF_ENABLED": True}  # as `make run` serves it: the API needs no CSRF token


@pytest.fixture
def live(app):
    """The test app served by werkzeug in a thread (as `make run` serves it)."""
    with servir(app) as url:
        yield url


def test_the_script_needs_only_requests_and_the_standard_library():
    tree = ast.parse(SCRIPT.read_text(encoding="utf-8"))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert modules - set(sys.stdlib_module_names) == {"requests"}
    # the guide's command line names a demo account that exists, with its password
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert "--utilisateur utilisateur.etablissement" in guide
    assert "utilisateur.etablissement" in {username for _r, username, *_ in demo.DEMO_USERS}
    assert f"--mot-de-passe '{demo.DEMO_PASSWORD}'" in guide


def test_the_guide_s_example_imports_finalizes_and_sends(app, world, live, capsys,
                                                         monkeypatch):
    script = exemple()
    argv = ["--url", live, "--utilisateur", OF, "--mot-de-passe", PASSWORD]

    # no habilitation yet: the first refusal stops the script with the API's French message
    assert script.main(argv) == 1
    refused = capsys.readouterr()
    assert "Modèle d'import refusée (HTTP 403)" in refused.err
    assert "habilitation CléA valide" in refused.err
    assert db.session.scalar(select(Candidature.id).limit(1)) is None

    habiliter(world, "etab_a1")
    db.session.commit()
    db.session.remove()  # the server's threads write: nothing held open here
    assert script.main(argv) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    for line in ("Import vérifié : 3 ligne(s), 3 valide(s), 0 refusée(s)",
                 "Import confirmé : 3 dossier(s) créé(s)", "28 sous-domaines acquis",
                 "Évaluation finalisée : Validé", "« En attente de jury »",
                 "Parcours terminé."):
        assert line in out, out

    db.session.expire_all()
    dossiers = db.session.scalars(select(Candidature).where(
        Candidature.etablissement_id == world.ids["etab_a1"]).order_by(Candidature.id)).all()
    assert len(dossiers) == 3
    assert all(d.candidat.nom_naissance.startswith("Exemple-") for d in dossiers)
    sent, *others = dossiers
    assert "envoyé en certification" in out and f"Dossier n° {sent.id} " in out
    # the sent dossier: to the Transitions Pro of its region, waiting for a session
    assert sent.statut == C.ATTENTE_JURY
    assert sent.certificateur_id == world.ids["tp_idf"] and sent.envoye_le is not None
    (evaluation,) = db.session.scalars(select(Evaluation).where(
        Evaluation.candidature_id == sent.id)).all()
    assert (evaluation.statut, evaluation.resultat) == (FINALISEE, VALIDE)
    assert evaluation.evaluateur == "Camille Évaluatrice" and evaluation.date_evaluation
    assert len(evaluation.resultats) == 28 and all(r.acquis for r in evaluation.resultats)
    assert [d.nature for d in db.session.scalars(select(Document).where(
        Document.evaluation_id == evaluation.id))] == ["matrice"]
    # the other imported dossiers wait for their préalable, with all the send needs
    assert [d.statut for d in others] == [C.ATTENTE_EVAL_PREALABLE] * 2
    assert all(c.email and c.adresse and c.code_postal and c.ville for c in db.session.scalars(
        select(Candidat).where(Candidat.id.in_([d.candidat_id for d in dossiers]))))

    # run again: new people (no duplicate, no near-duplicate refused), three more dossiers
    assert script.main(argv) == 0, capsys.readouterr()
    db.session.expire_all()
    assert len(db.session.scalars(select(Candidature.id).where(
        Candidature.etablissement_id == world.ids["etab_a1"])).all()) == 6

    # the guide's excerpt (the script's core) does the same, as printed
    monkeypatch.setenv("CLEA_URL", live)
    monkeypatch.setenv("CLEA_UTILISATEUR", OF)
    monkeypatch.setenv("CLEA_MOT_DE_PASSE", PASSWORD)
    exec(compile(extrait_du_guide(), "docs/api.md", "exec"), {"__name__": "guide"})
    assert capsys.readouterr().out.splitlines()[-1] == C.ATTENTE_JURY
    db.session.expire_all()
    (durand,) = db.session.scalars(select(Candidature).join(Candidat).where(
        Candidat.nom_naissance == "Durand")).all()
    assert durand.statut == C.ATTENTE_JURY and durand.etablissement_id == world.ids["etab_a1"]
