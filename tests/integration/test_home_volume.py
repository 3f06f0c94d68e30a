"""The home page at national volume (issue 14): the dashboard's counts by status come from
the Stats counters for the nation, a réseau and an organisme (exact: equal to counting the
dossiers, after random operations through the services), and on PostgreSQL at 100 000
dossiers every statement of the national home page reads its indexes (« Derniers dossiers
certifiés » by ix_candidature_statut_liste, « Dossiers à examiner par le jury » by the partial
ix_candidature_en_examen), none scans the candidatures."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.candidature import Candidature
from app.security import perimeter
from app.services import candidatures
from tests.conftest import BACKENDS
from tests.integration.test_list_volume import assert_on_indexes, charger_volume, statements
from tests.integration.test_stats_aggregates import _operations
from tests.world import user

WHO = ("certif_pro_a", "admin_reseau_a", "admin_reseau_b", "admin_organisme_a",
       "utilisateur_etablissement_a")


def _direct(by) -> dict:
    rows = db.session.execute(select(Candidature.statut, func.count()).where(
        perimeter.clause(Candidature, by)).group_by(Candidature.statut)).all()
    return dict(rows)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_dashboard_counts_equal_the_dossiers_counted(app, world, login):
    _operations(world, seed=31, steps=30)
    seen = set()
    for who in WHO:
        by = user(who)
        got = candidatures.compter_par_statut(by)
        assert got == _direct(by), who
        seen.add(bool(got))
    assert True in seen  # not only empty perimeters
    page = login("certif_pro_a").get("/")
    assert page.status_code == 200 and "Dossiers à examiner par le jury" in page.text


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_national_home_reads_its_indexes_at_volume(app, world, login):
    charger_volume(world)
    client = login("certif_pro_a")
    with statements() as seen:
        response = client.get("/")
    assert response.status_code == 200 and "Dossiers à examiner par le jury" in response.text
    used = assert_on_indexes(seen)
    # « Derniers dossiers certifiés » read on an index of the certified dossiers only: the
    # status-first one, or the partial unique index of the certified (both plans appear,
    # depending on the sample ANALYZE drew)
    assert {"ix_candidature_statut_liste", "uq_candidature_certifiee"} & set(used), used
    assert "ix_candidature_en_examen" in used, used
    assert not any("GROUP BY candidature.statut" in s for s, _p in seen)  # the counters
