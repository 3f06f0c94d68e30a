"""Issue 15, « Never 500 »: schemathesis over every operation of the served OpenAPI.

For two roles (Certif Pro, national; an établissement's user, the narrowest perimeter),
every operation of `/api/v1/_openapi` gets requests generated from its own description:
valid ones (positive) and ones that break it (negative: wrong types, missing fields, values
out of bounds). Bounded and reproducible: a fixed number of examples per operation,
derandomized (the same requests on every run). No answer may be a server error, and every
answer must be one the document declares: its status code, its content type and, for JSON,
its schema (schemathesis's conformance checks).

Run alone: `.venv/bin/pytest tests/integration/test_api_fuzz.py` (README « Tests »);
CLEA_FUZZ_EXAMPLES raises the number of examples per operation and mode.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks

EXAMPLES = int(os.environ.get("CLEA_FUZZ_EXAMPLES", "6"))
ROLES = ("certif_pro_a", "utilisateur_etablissement_a")


CONFORMANCE = (checks.response_schema_conformance, checks.status_code_conformance,
               checks.content_type_conformance)


def server_errors(app, username: str, api_token) -> tuple[int, dict[str, str]]:
    """(requests sent, {operation → an example}) for every answer ≥ 500 or that the document
    does not declare."""
    headers = api_token(username)
    spec = app.test_client().get("/api/v1/_openapi").json  # readable without a token
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    sent, failed = [0], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        assert operation is not None, result
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case):
                sent[0] += 1
                response = case.call(headers=headers)
                where = f"{operation.method.upper()} {operation.path}"
                example = f"{case.path_parameters} {case.query} {str(case.body)[:200]}"
                if response.status_code >= 500:
                    failed.setdefault(f"{where} → {response.status_code}", example)
                    return
                try:
                    case.validate_response(response, checks=CONFORMANCE)
                except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001
                    found = getattr(error, "exceptions", [error])
                    kinds = ", ".join(sorted({type(e).__name__ for e in found}))
                    failed.setdefault(f"{where} → {response.status_code} ({kinds})",
                                      f"{example} — {str(error)[:300]}")
            try:
                run()
            except Unsatisfiable:
                # nothing of the operation can be made invalid (the public document: no
                # token to break, a free-text path): no negative request exists
                assert mode is GenerationMode.NEGATIVE, operation.path
    return sent[0], failed


@pytest.mark.parametrize("username", ROLES)
def test_every_answer_is_declared_and_none_is_a_server_error(app, world, api_token,
                                                             username):
    sent, failed = server_errors(app, username, api_token)
    assert sent > 500, sent  # every operation was reached
    assert not failed, "\n".join(f"{key}: {example}" for key, example in failed.items())


# --- the same checks on real rows ------------------------------------------------------------
# Random ids almost always name nothing (a 404): the answers that carry data are checked
# here, on a world with a dossier at every step (a draft and a finalized evaluation, a
# formation, a document, a certified dossier with its certificate, a jury session), by
# reading every GET operation with the ids the lists give.

def _peupler(world) -> None:
    from app.services import candidatures, certification, documents, evaluations
    from tests.integration.test_candidatures import dossier, habiliter
    from tests.integration.test_jury import en_session
    from tests.world import user

    habiliter(world, "etab_a1")
    of = user("utilisateur_etablissement_a")
    brouillon = candidatures.creer(dossier(world, nom_naissance="Fuzz", prenoms="Anne"), of)
    evaluations.creer(brouillon, of)
    evaluations.ajouter_formation(brouillon, {
        "intitule": "Remise à niveau", "organisme_formateur": "ETAB_A1", "formateur": "P. G.",
        "date_debut": "2026-01-05", "date_fin": "2026-01-30", "duree_heures": "14",
        "modalite": "presentiel"}, of)
    documents.enregistrer(brouillon, "piece.pdf",
                          b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", of)
    _session, (certifie,) = en_session(world, certificat_papier=True)
    certification.decider(certifie, "certifiee", "", user("jury_a"))


def _lire_les_lignes(app, username: str, api_token) -> tuple[int, dict[str, str]]:
    headers = api_token(username)
    client = app.test_client()
    spec = client.get("/api/v1/_openapi").json
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    lus, failed = 0, {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or operation.path.count("{") > 1:
            continue
        ids = [None]
        if "{pk}" in operation.path:
            liste = operation.path.split("{pk}")[0]
            answer = client.get(liste, headers=headers)
            ids = (answer.json or {}).get("ids", [])[:2] if answer.status_code == 200 else []
        elif "{" in operation.path:
            continue
        for pk in ids:
            case = operation.Case(path_parameters={"pk": pk} if pk else {})
            response = case.call(headers=headers)
            lus += 1
            where = f"GET {operation.path} ({pk})"
            if response.status_code >= 500:
                failed[where] = str(response.status_code)
                continue
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001
                failed[where] = str(error)[:400]
    return lus, failed


@pytest.mark.parametrize("username", ROLES)
def test_every_row_read_back_matches_the_document(app, world, api_token, username):
    _peupler(world)
    lus, failed = _lire_les_lignes(app, username, api_token)
    assert lus > 20, lus  # lists and rows were read
    assert not failed, "\n".join(f"{key}: {why}" for key, why in failed.items())
