"""The page CANDIDAT loads what it shows with the dossier (issue 14: at most 15 statements,
measured 17 in `make bench` at 1 000 000): its history's authors are read in one statement
whatever their number, its jury session and certificateur with the dossier, not one lazy
load each."""
from __future__ import annotations

import datetime as dt

import pytest

from app.extensions import db
from app.models.candidature import HistoriqueStatut
from app.services import candidatures
from tests.conftest import BACKENDS
from tests.integration.test_candidatures import dossier, habiliter
from tests.world import user

AUTHORS = ("utilisateur_etablissement_a", "admin_reseau_a", "certif_pro_a",
           "admin_organisme_a")


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_history_authors_cost_no_statement_each(app, world, login, count_queries):
    habiliter(world, "etab_a1")
    c = candidatures.creer(dossier(world), user("utilisateur_etablissement_a"), True)
    db.session.commit()
    cid = c.id
    client = login("admin_reseau_a")

    def page() -> tuple[int, str]:
        client.get(f"/candidature/{cid}")  # warm-up
        db.session.expunge_all()  # nothing known beforehand, as in a server's request
        with count_queries() as counter:
            response = client.get(f"/candidature/{cid}")
        assert response.status_code == 200
        return counter.count, response.text

    one_author, _text = page()
    for i, who in enumerate(AUTHORS[1:]):  # notes by three other people
        db.session.add(HistoriqueStatut(candidature_id=cid, de="attente_eval_prealable",
                                        vers="attente_eval_prealable",
                                        motif=f"Relecture {i}", par_id=user(who).id,
                                        le=dt.datetime.now()))
    db.session.commit()
    four_authors, text = page()
    assert four_authors == one_author, (one_author, four_authors)
    assert four_authors <= 15
    assert "Relecture 2" in text  # the history shown is the one read
