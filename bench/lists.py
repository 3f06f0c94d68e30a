"""Benchmark: the Évaluations list past its first page over N dossiers on PostgreSQL.

    .venv/bin/python bench/lists.py [nombre_de_dossiers]

Starts a throw-away PostgreSQL 15 (as the test suite does), creates the schema and the test
world, bulk-loads N dossiers in one établissement (the same rows as bench/export_stats.py,
without evaluations), then requests the Évaluations list as the Administrateur réseau: page 1,
page 2, the last page and a search by name; prints for each the HTTP status, the number of SQL
statements and the median time of 5 requests. A script, not a test: timings are noisy here."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_app, load  # noqa: E402
from bench.export_stats import SEED  # noqa: E402

DOSSIERS = ";\n".join(SEED.split(";\n")[:2]) + ";\nANALYZE;\n"


def main(n: int) -> None:
    with bench_app(CLEA_SECURITY_HEADERS=False) as (app, world):
        import datetime as dt

        from sqlalchemy import event

        from app.extensions import db
        from app.services import habilitations
        from tests.world import PASSWORD

        started = time.perf_counter()
        load(DOSSIERS, n=n, etab=world.ids["etab_a1"])
        hab = habilitations.demander({"etablissement_id": world.ids["etab_a1"]}, None)
        today = dt.date.today()
        habilitations.decider(hab, {"decision": "validee",
                                    "date_debut": today - dt.timedelta(days=1),
                                    "date_fin": today + dt.timedelta(days=365)}, None)
        print(f"chargement de {n} dossiers : {time.perf_counter() - started:.1f} s")
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(1))
        client = app.test_client()
        client.post("/login/", data={"username": "admin_reseau_a", "password": PASSWORD})
        last = max(0, (n - 1) // 25)
        for label, query in (("page 1", ""), ("page 2", "?page=1"),
                             (f"dernière page ({last + 1})", f"?page={last}"),
                             ("recherche « nom4242 »", "?nom=nom4242")):
            times = []
            for _ in range(5):
                statements.clear()
                started = time.perf_counter()
                response = client.get(f"/evaluations/{query}")
                times.append((time.perf_counter() - started) * 1000)
            print(f"{label:28} HTTP {response.status_code}  {len(statements):3d} requêtes SQL"
                  f"  médiane {statistics.median(times):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
