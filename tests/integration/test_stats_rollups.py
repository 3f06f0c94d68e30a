"""The Stats aggregates' roll-up rows and the national medians read from the durations' indexes
(issue 14: the national Stats page at a million dossiers reads thousands of rows, not
millions, and sorts nothing).

The roll-ups equal the sum of the organisme rows after random operations through the services
(kept by the transactions, then by a full recomputation); the national page reads only the
national rows; the medians found by position equal PostgreSQL's percentile_cont over the same
durations, for an odd and an even number of dossiers."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models.agregats import StatsDossier
from app.services import agregats, stats
from tests.conftest import BACKENDS
from tests.integration.test_stats_aggregates import _operations
from tests.world import user

TOUS = agregats.TOUS


def _niveaux(model, keys, values):
    """{level: {(réseau, key...): values}} for the organisme rows summed, and the roll-ups."""
    t = model.__table__
    detail, reseau, national = Counter(), Counter(), Counter()
    for row in db.session.execute(select(t)).mappings():
        key = tuple(str(row[k]) for k in keys)
        for v in values:
            if row["organisme_id"] != TOUS:
                detail[(row["reseau_id"], *key, v)] += row[v]
                detail[(TOUS, *key, v)] += row[v]
            elif row["reseau_id"] != TOUS:
                reseau[(row["reseau_id"], *key, v)] += row[v]
            else:
                national[(TOUS, *key, v)] += row[v]
    expected = +detail  # rows at zero are not compared (a delta may leave one)
    got = +reseau + +national
    return expected, got


def _rollups_match():
    for model, keys, values in agregats.TABLES_COMPTES:
        expected, got = _niveaux(model, keys, values)
        assert got == expected, model.__tablename__
        assert got, model.__tablename__  # not only empty tables


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_rollups_are_the_sums_of_the_organisme_rows(app, world):
    _operations(world, seed=21, steps=30)
    _rollups_match()  # kept by the services' transactions
    agregats.recalculer()
    _rollups_match()  # and written by the full recomputation


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_national_and_reseau_pages_read_only_their_rollup_rows(app, world, count_queries):
    _operations(world, seed=22, steps=15)
    for who in ("certif_pro_a", "admin_reseau_a"):
        with count_queries() as counter:
            stats.indicateurs(user(who), stats.Filtres())
        reads = [s for s in counter.statements
                 if "FROM stats_acquisition" in s or "FROM stats_compteurs" in s
                 or "FROM stats_flux_mois" in s]
        assert len(reads) == 3, counter.statements
        for statement in reads:
            assert "organisme_id =" in statement, statement  # the roll-up level, chosen


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_national_medians_by_index_position_equal_percentile_cont(app, world):
    _operations(world, seed=23, steps=40)
    columns = [StatsDossier.duree_prealable, StatsDossier.duree_finale,
               StatsDossier.duree_envoi, StatsDossier.duree_decision]
    parities = set()
    for _round in range(2):
        reference = db.session.execute(select(*[
            x for c in columns for x in (func.percentile_cont(0.5).within_group(c),
                                         func.count(c))])).one()
        got = stats._medianes_indexees(columns)
        for i, (median, n) in enumerate(got):
            assert n == reference[2 * i + 1]
            if n:
                parities.add(n % 2)
                assert median == round(reference[2 * i], 1)
            else:
                assert median is None
        figures = stats.indicateurs(user("certif_pro_a"), stats.Filtres()).as_dict()
        assert [d["mediane"] for d in figures["durees_medianes_jours"]] == [m for m, _ in got]
        # one dossier fewer with a préalable: the other parity for that median
        first = db.session.scalars(select(StatsDossier).where(
            StatsDossier.duree_prealable.is_not(None)).order_by(
            StatsDossier.candidature_id)).first()
        first.duree_prealable = None
        db.session.flush()
    assert parities == {0, 1}
    db.session.rollback()
