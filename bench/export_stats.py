"""Benchmark: the Stats export (and the indicators) over 100 000 dossiers on PostgreSQL.

    .venv/bin/python bench/export_stats.py [nombre_de_dossiers]

Starts a throw-away PostgreSQL 15 (as the test suite does), creates the schema and the test
world, bulk-loads N dossiers of réseau A each with a finalized préalable (28 results), then
times `services.stats.indicateurs` and the parcours export end to end as the scheduler process
runs it (`services.exports.demander` then `executer_en_attente`: rows read, written, file in
place, notification), counts its SQL statements, reports the process's peak resident memory,
and times the bare writer loop (bench/xlsx_writers.py: the same writer over N rows of the
same shape, nothing read) for the ratio. Figures go to README.md (« Mesures »)."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import bench_app, load  # noqa: E402

SEED = """
INSERT INTO candidat (civilite, nom_naissance, prenoms, date_naissance, email, cle_identite,
                      recherche, recherche_prenom, created_on)
SELECT 'Mme', 'Nom' || g, 'Prénom', DATE '1970-01-01' + (g % 15000), 'c' || g || '@exemple.fr',
       'bench|' || g, 'nom' || g || ' prenom', 'prenom nom' || g, now()
FROM generate_series(1, {n}) AS g;

INSERT INTO candidature (candidat_id, etablissement_id, organisme_id, reseau_id, statut,
                         type_public, statut_inscription,
                         socle_contextualise, niveau_formation, objectif_pro, objectif_extra_pro,
                         certificat_papier, date_prealable, created_on, updated_on)
SELECT c.id, {etab}, (SELECT organisme_id FROM etablissement WHERE id = {etab}),
       (SELECT o.reseau_id FROM organisme o JOIN etablissement e ON e.organisme_id = o.id
        WHERE e.id = {etab}), CASE WHEN c.id % 4 = 0 THEN 'a_envoyer' ELSE 'attente_eval_finale' END,
       CASE WHEN c.id % 2 = 0 THEN 'salarie' ELSE 'demandeur_emploi' END, 'demandeur_emploi',
       false, 1 + c.id % 8, 'Objectif professionnel de référence pour la mesure.',
       'Objectif extra-professionnel de référence.', false, current_date,
       now() - ((c.id % 365) || ' days')::interval, now()
FROM candidat c WHERE c.cle_identite LIKE 'bench|%';

INSERT INTO evaluation (candidature_id, referentiel_id, type, statut, resultat, evaluateur,
                        date_evaluation, version, created_on, finalisee_le)
SELECT id, {referentiel}, 'prealable', 'finalisee',
       CASE WHEN id % 4 = 0 THEN 'valide' ELSE 'non_valide' END, 'Évaluateur', current_date, 2,
       created_on, created_on + interval '20 days'
FROM candidature;

INSERT INTO resultat_evaluation (evaluation_id, sous_domaine_id, acquis)
SELECT e.id, sd.id, (e.candidature_id % 4 = 0) OR ((e.id + sd.id) % 5 <> 0)
FROM evaluation e CROSS JOIN sous_domaine sd;

ANALYZE;
"""


def main(n: int) -> None:
    with bench_app() as (app, world):
        from sqlalchemy import event

        from app.extensions import db
        from app.models import ExportJob
        from app.models.referentiel import Referentiel
        from app.services import exports, stats
        from tests.world import user

        referentiel = db.session.query(Referentiel.id).scalar()
        started = time.perf_counter()
        load(SEED, n=n, etab=world.ids["etab_a1"], referentiel=referentiel)
        print(f"chargement de {n} dossiers : {time.perf_counter() - started:.1f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        admin = user("admin_reseau_a")
        started = time.perf_counter()
        ind = stats.indicateurs(admin, stats.Filtres())
        print(f"indicateurs ({ind.total} dossiers) : {time.perf_counter() - started:.1f} s")

        statements, sql_time = [], [0.0]

        def before(conn, cursor, statement, *args):
            statements.append(statement)
            conn.info["clea_t0"] = time.perf_counter()

        def after(conn, *args):
            sql_time[0] += time.perf_counter() - conn.info.pop("clea_t0", time.perf_counter())

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        started, cpu = time.perf_counter(), time.process_time()
        job = exports.demander(admin, "parcours", stats.Filtres())
        bilan = exports.executer_en_attente()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        job = db.session.get(ExportJob, job.id)
        assert bilan["pretes"] == 1 and job.lignes_total == n, (bilan, job.erreur)
        path = exports.stockage.chemin(job.fichier)
        size = os.path.getsize(path) / 1024 / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reads = sum(1 for s in statements if "WITH lot" in s or "resultat_evaluation" in s)
        print(f"export Excel de bout en bout (file d'attente → fichier prêt) : {elapsed:.1f} s "
              f"(CPU du processus {cpu:.1f} s), fichier {size:.1f} Mo, "
              f"{len(statements)} requêtes SQL dont {reads} de lecture des lignes "
              f"(lots de {exports.BATCH}), {sql_time[0]:.1f} s dans la base (exécution et "
              f"lecture des résultats)")
        print(f"mémoire résidente maximale du processus : {peak:.0f} Mo "
              f"(avant l'export : {rss_before:.0f} Mo)")
    bare = subprocess.run([sys.executable, str(Path(__file__).with_name("xlsx_writers.py")),
                           str(n), "--one", "rustpy"], capture_output=True, text=True,
                          check=True).stdout.strip()
    print(f"boucle nue du même écrivain : {bare}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
