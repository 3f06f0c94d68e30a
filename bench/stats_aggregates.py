"""Benchmark: the Stats indicators over N dossiers on PostgreSQL, from the aggregates and
(for comparison) from the source tables as before.

    .venv/bin/python bench/stats_aggregates.py [nombre_de_dossiers] [-v]

(-v: the time of each SQL statement of the indicators read from the aggregates.)

Bulk-loads N dossiers with a finalized préalable of 28 results (bench/export_stats.py's rows),
rebuilds the aggregates (`agregats.recalculer()`, as after any bulk load), then computes the
indicators as Certif Pro (national) and as the Administrateur réseau, without filters and
with a period cut inside months; prints the SQL statements and the median of 5 runs. A
script, not a test: timings are noisy here."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_app, load  # noqa: E402
from bench.export_stats import SEED  # noqa: E402


def main(n: int) -> None:
    with bench_app() as (app, world):
        import datetime as dt

        from sqlalchemy import event

        from app.extensions import db
        from app.models.referentiel import Referentiel
        from app.services import agregats, stats
        from tests.integration.test_stats_aggregates import indicateurs_directs
        from tests.world import user

        referentiel = db.session.query(Referentiel.id).scalar()
        started = time.perf_counter()
        load(SEED, n=n, etab=world.ids["etab_a1"], referentiel=referentiel)
        print(f"chargement de {n} dossiers : {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        agregats.recalculer()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        print(f"recalcul des agrégats : {time.perf_counter() - started:.1f} s")
        statements = []
        event.listen(db.engine, "before_cursor_execute",
                     lambda _c, _cur, sql, *args: statements.append([sql, time.perf_counter()]))
        event.listen(db.engine, "after_cursor_execute",
                     lambda *args: statements[-1].append(time.perf_counter()))
        today = dt.date.today()
        periode = stats.Filtres(debut=today - dt.timedelta(days=200),
                                fin=today - dt.timedelta(days=15))
        for who in ("certif_pro_a", "admin_reseau_a"):
            by = user(who)
            for label, f in (("sans filtre", stats.Filtres()), ("période", periode)):
                for name, compute in (("agrégats", stats.indicateurs),
                                      ("sources", indicateurs_directs)):
                    times = []
                    for _ in range(5 if name == "agrégats" else 2):
                        statements.clear()
                        started = time.perf_counter()
                        result = compute(by, f)
                        times.append((time.perf_counter() - started) * 1000)
                    print(f"{who:16} {label:12} {name:9} {result.total:7d} dossiers  "
                          f"{len(statements):3d} requêtes SQL  médiane "
                          f"{statistics.median(times):8.1f} ms")
                    if name == "agrégats" and "-v" in sys.argv:
                        for sql, start, *end in statements:
                            took = (end[0] - start) * 1000 if end else 0
                            print(f"    {took:7.1f} ms  {' '.join(sql.split())[:100]}")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    main(int(numbers[0]) if numbers else 100_000)
