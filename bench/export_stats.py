"""Benchmark: the Stats export (and the indicators) over 100 000 dossiers on PostgreSQL.

    .venv/bin/python bench/export_stats.py [nombre_de_dossiers]

Starts a throw-away PostgreSQL 15 (as the test suite does), creates the schema and the test
world, bulk-loads N dossiers of réseau A each with a finalized préalable (28 results), then
times `services.stats.indicateurs` and `services.stats.exporter` for the Administrateur réseau
and reports the process's peak resident memory. Figures go to README.md (« Mesures »)."""
from __future__ import annotations

import os
import resource
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
        from app.extensions import db
        from app.models.referentiel import Referentiel
        from app.services import stats
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
        started = time.perf_counter()
        path = stats.exporter(admin, stats.Filtres())
        elapsed = time.perf_counter() - started
        size = os.path.getsize(path) / 1024 / 1024
        os.unlink(path)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"export Excel : {elapsed:.1f} s, fichier {size:.1f} Mo")
        print(f"mémoire résidente maximale du processus : {peak:.0f} Mo "
              f"(avant l'export : {rss_before:.0f} Mo)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
