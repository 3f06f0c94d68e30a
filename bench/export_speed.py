"""The Stats export alone, at volume, against its floor (issue 14: < 20 s end to end for
100 000 dossiers, peak memory < 300 MB, ≤ 1.5× the bare writer loop).

    .venv/bin/python bench/export_speed.py                  # own server, synth, measure, stop
    .venv/bin/python bench/export_speed.py serve URLFILE    # keep a loaded server up (dev)
    .venv/bin/python bench/export_speed.py measure URL      # measure against that server

The export is measured as production runs it, without the web server around it: the job is
queued (services/exports.demander, Certif Pro, no filter: every dossier), then
`flask --app run clea exports` prepares it in a process of its own; timed from the start of
that process to its end, its peak memory from wait4 (maxrss). Also timed: the same command
with nothing waiting (the worker's own start, which a running scheduler does not pay). The
floor: a bare rustpy-xlsxwriter loop (bench/floor.bare_xlsx) over the same rows, read
beforehand from the export's own query."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.floor import bare_xlsx  # noqa: E402
from bench.run import ROLES, TunedPostgres, xlsx_rows  # noqa: E402
from tests.conftest import prepare_database  # noqa: E402

N = int(os.environ.get("BENCH_N", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))


def _worker(env: dict) -> tuple[float, float, float]:
    """(seconds, peak MB, CPU seconds) of one `flask clea exports` run."""
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "run", "clea", "exports"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (time.perf_counter() - started, usage.ru_maxrss / 1024,
            usage.ru_utime + usage.ru_stime)


def measure(url: str, base: Path) -> dict:
    from app import create_app
    from app.extensions import db
    from app.models import ExportJob
    from app.services import exports, stockage
    from tests.world import user

    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-" + os.urandom(16).hex(),
           "CLEA_INSTANCE_DIR": str(base / "instance"), "UPLOAD_DIR": str(base / "uploads")}
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url,
                     UPLOAD_DIR=str(base / "uploads"))
    result: dict = {}
    with app.app_context():
        result["idle_s"], result["idle_mb"], _cpu = _worker(env)
        job = exports.demander(user(ROLES["national"]), "parcours", exports.Filtres())
        job_id = job.id
        db.session.remove()
        result["s"], result["peak_mb"], result["cpu_s"] = _worker(env)
        job = db.session.get(ExportJob, job_id)
        result["statut"], result["erreur"] = job.statut, job.erreur
        path = stockage.chemin(job.fichier, db.session) if job.fichier else None
        result["rows"] = xlsx_rows(path) if path else 0
        result["file_mb"] = path.stat().st_size / 1024 ** 2 if path else 0
        with app.test_request_context():
            sous_domaines = exports._sous_domaines()
            headers = exports.entetes_parcours(sous_domaines)
            rows = list(exports.lignes_parcours(user(ROLES["national"]), exports.Filtres(),
                                                sous_domaines))
        result["floor_rows"] = len(rows)
        result["floor_s"] = bare_xlsx(headers, rows, str(base / "bare.xlsx"))
        db.session.remove()
        db.engine.dispose()
    result["ratio"] = result["s"] / result["floor_s"]
    result["ratio_without_start"] = (result["s"] - result["idle_s"]) / result["floor_s"]
    return result


def report(result: dict) -> None:
    print(f"export of {result['rows']} dossiers ({result['statut']}{', ' + result['erreur'] if result['erreur'] else ''}): "
          f"{result['s']:.1f} s end to end (worker start alone {result['idle_s']:.1f} s, "
          f"{result['idle_mb']:.0f} MB), peak {result['peak_mb']:.0f} MB, CPU "
          f"{result['cpu_s']:.1f} s, file {result['file_mb']:.1f} MB; bare writer loop over "
          f"{result['floor_rows']} rows {result['floor_s']:.1f} s; ratio "
          f"{result['ratio']:.2f}× ({result['ratio_without_start']:.2f}× without the "
          f"worker's start)", flush=True)


def load(url: str) -> None:
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.services import synth

    prepare_database(url)
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        started = time.perf_counter()
        synth.generer(N, SEED)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        print(f"synth {N}: {time.perf_counter() - started:.0f} s", flush=True)
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "all"
    if mode == "measure":
        base = Path(tempfile.mkdtemp(prefix="clea-export-"))
        try:
            report(measure(sys.argv[2], base))
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    base = Path(tempfile.mkdtemp(prefix="clea-export-"))
    os.chmod(base, 0o755)
    server = TunedPostgres(base)
    server.start()
    try:
        server.execute("CREATE DATABASE clea_bench")
        url = server.url("clea_bench")
        load(url)
        if mode == "serve":
            Path(sys.argv[2]).write_text(url)
            signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
            while True:
                time.sleep(3600)
        report(measure(url, base / "run"))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    main()
