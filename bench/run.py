"""`make bench`: the platform at volume, served as in production, measured against floors.

    BENCH_N=100000 BENCH_SEED=1 BENCH_DURATION=60 .venv/bin/python bench/run.py

Starts a throw-away PostgreSQL 15 (production-like memory settings, fsync off: a bench, not a
database to keep) and a Redis, creates the schema through the migrations with the roles, the
référentiel and the test world's users (tests/world.py), loads N candidatures (synth), then
serves the application with gunicorn from the repository's gunicorn.conf.py as a subprocess
and drives a load client on localhost. Every page is requested BENCH_REPEAT times (p50, p95,
p99) after a warm-up; one more request, sent with X-Clea-Bench-Capture (the bench-only
CLEA_BENCH_CAPTURE switch, app/capture.py), records its SQL statements, which are replayed raw
with psycopg: the page's floor (bench/floor.py). The Stats export runs as in production:
queued by the Stats page's form, prepared by the exports worker in service (`flask clea exports --continu`, woken by Redis),
followed on its status until « prête », downloaded (measure_export). Writes bench/REPORT.md (never edit it by
hand: run this again)."""
from __future__ import annotations

import datetime as dt
import html
import io
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.floor import Capture, bare_pdf, bare_xlsx, percentile, replay  # noqa: E402
from tests.conftest import PG_BIN, PostgresServer, free_port, prepare_database  # noqa: E402
from app.security import roles as R  # noqa: E402
from app.services import synth  # noqa: E402

N = int(os.environ.get("BENCH_N", "100000"))
SEED = int(os.environ.get("BENCH_SEED", "1"))
DURATION = int(os.environ.get("BENCH_DURATION", "60"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
SLOW_REPEAT = int(os.environ.get("BENCH_SLOW_REPEAT", "5"))  # Stats pages, PDF
USERS = int(os.environ.get("BENCH_USERS", "50"))
# A user reads a page before the next click: each waits between 0.5 and 1.5 × BENCH_THINK_S
# seconds (1 s on average; 0 turns the run into a saturation test of back-to-back requests).
THINK_S = float(os.environ.get("BENCH_THINK_S", "1"))
REPORT = ROOT / "bench" / "REPORT.md"
PG_SETTINGS = {"shared_buffers": "1GB", "work_mem": "32MB", "maintenance_work_mem": "256MB",
               "effective_cache_size": "4GB", "random_page_cost": "1.1",
               "max_connections": "200", "fsync": "off", "synchronous_commit": "off",
               "full_page_writes": "off"}
# The logins of the three roles: the synthetic world's (app/services/synth.py LOGINS)
ROLES = {"national": synth.LOGINS[R.CERTIF_PRO],
         "reseau": synth.LOGINS[R.ADMIN_RESEAU].format(i=1),
         "etablissement": synth.LOGINS[R.UTILISATEUR_ETABLISSEMENT].format(i=1)}
# Targets of issue 14 (at 1 million candidatures)
PAGE_P95_MS, PAGE_RATIO, PAGE_SQL = 150, 3.0, 15
STATS_P95_MS = 1000
EXPORT_S, EXPORT_MB, EXPORT_RATIO = 20, 300, 1.5
MIXED_P95_MS = 500
SYNTH_S_PER_MILLION = 15 * 60

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))  # « Importer des candidatures »
IMPORT_S = 60  # issue 15: 10 000 rows in under a minute
EXPORT_ROWS = 100_000  # the export measured: the national one of about this many dossiers


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- servers -------------------------------------------------------------------------------

class TunedPostgres(PostgresServer):
    """tests/conftest.PostgresServer with production-like memory settings."""

    def start(self):
        if os.geteuid() == 0:
            import pwd

            pg = pwd.getpwnam("postgres")
            os.chown(self.base, pg.pw_uid, pg.pw_gid)
        self._run(PG_BIN / "initdb", "-D", self.base / "data", "-U", "postgres", "-A", "trust",
                  "-E", "UTF8")
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {k}={v}" for k, v in PG_SETTINGS.items())
        self._run(PG_BIN / "pg_ctl", "-D", self.base / "data", "-l", self.base / "server.log",
                  "-w", "-o", options, "start")

    def conninfo(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"


def start_redis(base: Path):
    port = free_port()
    process = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind",
                                "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                                str(base)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("redis-server n'a pas démarré")


def app_env(db_url: str, redis_url: str, base: Path) -> dict:
    """The environment of the web server and of the export worker (the same, as in
    production)."""
    return {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "bench-" + os.urandom(16).hex(),
            "CLEA_REDIS_URL": redis_url, "CLEA_INSTANCE_DIR": str(base / "instance"),
            "UPLOAD_DIR": str(base / "uploads"), "CLEA_BENCH_CAPTURE": "1",
            "CLEA_BENCH_CAPTURE_DIR": str(base / "capture"),
            # one client address logs 50 users in within seconds: not what the limit is for
            "AUTH_RATE_LIMIT": "100000 per second", "CLEA_LOGIN_IP_FAILURES_FREE": "100000"}


def start_app(env: dict, base: Path):
    port = free_port()
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
               "-b", f"127.0.0.1:{port}", "run:app"]
    logfile = open(base / "gunicorn.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logfile, stderr=logfile,
                               start_new_session=True)
    for _ in range(600):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login/")
            if conn.getresponse().status == 200:
                conn.close()
                return process, port
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError("gunicorn s'est arrêté : " + (base / "gunicorn.log").read_text())
        time.sleep(0.2)
    raise RuntimeError("gunicorn ne répond pas")


def stop(process) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the load client ------------------------------------------------------------------------

class Client:
    """One user: a keep-alive connection and the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None, sink=False):
        headers = {**self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                if sink:
                    while response.read(1 << 20):
                        pass
                    data = b""
                else:
                    data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                self.cookies[key.strip()] = val.strip()
        return response, data

    def login(self, username: str) -> None:
        _response, page = self.request("GET", "/login/")
        body = urllib.parse.urlencode({"username": username, "password": synth.SYNTH_PASSWORD,
                                       "csrf_token": csrf_token(page)})
        response, _data = self.request("POST", "/login/", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        if response.status != 302:
            raise RuntimeError(f"connexion refusée pour {username} ({response.status})")

    def api_login(self, username: str) -> None:
        _response, data = self.request("POST", "/api/v1/security/login", body=json.dumps(
            {"username": username, "password": synth.SYNTH_PASSWORD, "provider": "db"}),
            headers={"Content-Type": "application/json"})
        self.headers["Authorization"] = "Bearer " + json.loads(data)["access_token"]


def csrf_token(page: bytes) -> str:
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', page)
    return html.unescape(token.group(1).decode())


@dataclass
class Page:
    label: str
    role: str  # national | reseau | etablissement | api
    path: str
    group: str = "page"  # page | stats | pdf
    note: str = ""
    times: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    statements: int = 0
    floor: dict = field(default_factory=dict)
    extra_floor_ms: float = 0.0  # PDF: the bare canvas, added to the SQL floor


def timed(client: Client, path: str, **kwargs) -> tuple[float, int, object]:
    started = time.perf_counter()
    response, _data = client.request("GET", path, **kwargs)
    return (time.perf_counter() - started) * 1000, response.status, response


# --- data ---------------------------------------------------------------------------------

def load_data() -> dict:
    """Synth N candidatures; returns what the pages need (ids, search terms) and the time."""
    from sqlalchemy import text

    from app.extensions import db

    load_before = os.getloadavg()
    started = time.perf_counter()
    bilan = synth.generer(N, SEED)
    info = {"source": f"`app.services.synth.generer({N}, {SEED})`",
            "synth_s": time.perf_counter() - started, "synth_steps": bilan.durees,
            "load_before": load_before}
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    q = lambda sql, **p: db.session.execute(text(sql), p).scalar()  # noqa: E731
    reseau = q("SELECT reseau_id FROM ab_user WHERE username = :u", u=ROLES["reseau"])
    in_reseau = ("FROM candidature c JOIN etablissement e ON e.id = c.etablissement_id "
                 "JOIN organisme o ON o.id = e.organisme_id WHERE o.reseau_id = :r")
    info["etab"] = q(f"SELECT c.etablissement_id {in_reseau} GROUP BY 1 ORDER BY count(*) DESC "
                     f"LIMIT 1", r=reseau)
    info["dossier"] = q(f"SELECT c.id {in_reseau} AND EXISTS (SELECT 1 FROM evaluation v WHERE "
                        f"v.candidature_id = c.id) ORDER BY c.id LIMIT 1", r=reseau)
    info["evaluation"] = q("SELECT id FROM evaluation WHERE candidature_id = :d ORDER BY id "
                           "LIMIT 1", d=info["dossier"])
    info["certificat"] = q(f"SELECT min(c.id) {in_reseau} AND EXISTS (SELECT 1 FROM certificat "
                           f"k WHERE k.candidature_id = c.id)", r=reseau)
    info["reseau_total"] = q(f"SELECT count(*) {in_reseau} AND c.statut <> 'abandonnee'",
                             r=reseau)
    # the export of about 100 000 dossiers: the national one, from the day that leaves that many
    info["export_debut"] = None if N <= EXPORT_ROWS else q(
        "SELECT created_on::date FROM candidature ORDER BY created_on DESC OFFSET :k LIMIT 1",
        k=EXPORT_ROWS - 1)
    info["terms"] = _search_terms()
    return info


def _search_terms() -> dict:
    """Common, medium and rare names, from the surnames' frequencies."""
    from sqlalchemy import text

    from app.extensions import db

    rows = db.session.execute(text(
        "SELECT lower(nom_naissance), count(*) FROM candidat GROUP BY 1 ORDER BY 2 DESC")).all()
    medium = min(rows, key=lambda r: abs(r[1] - 25))
    rare = next((r for r in reversed(rows) if r[1] == 1), rows[-1])
    return {"common": rows[0][0], "medium": medium[0], "rare": rare[0]}


def pages(info: dict) -> list[Page]:
    last = max(0, (info["reseau_total"] - 1) // 25)
    terms = info["terms"]
    return [
        Page("Home", "national", "/"),
        Page("Home", "reseau", "/"),
        Page("Home", "etablissement", "/"),
        Page("Évaluations list, page 1", "reseau", "/evaluations/"),
        Page("Évaluations list, page 1", "national", "/evaluations/"),
        Page("Évaluations list, far page: the last one (keyset)", "reseau",
             "/evaluations/?fin=1", note="`?fin=1`, the pager's « last page » link"),
        Page(f"Évaluations list, far page ({last + 1}), old URL", "reseau",
             f"/evaluations/?page={last}", note=f"`?page={last}`: OFFSET, still answered"),
        Page("Évaluations list, filtered (statut, établissement)", "reseau",
             f"/evaluations/?statut=a_envoyer&etablissement={info['etab']}"),
        Page("Établissements list, sorted by name (descending)", "national",
             "/etablissementview/list/?_oc_EtablissementView=nom&_od_EtablissementView=desc",
             note="the Évaluations list offers no sort; FAB's sort of « Mes établissements »"),
        Page(f"National search, common name « {terms['common']} »", "national",
             f"/recherche/?q={urllib.parse.quote(terms['common'])}"),
        Page(f"National search, medium name « {terms['medium']} »", "national",
             f"/recherche/?q={urllib.parse.quote(terms['medium'])}"),
        Page(f"National search, rare name « {terms['rare']} »", "national",
             f"/recherche/?q={urllib.parse.quote(terms['rare'])}"),
        Page("Dossier page", "reseau", f"/candidature/{info['dossier']}"),
        Page("Grid (evaluation)", "reseau", f"/evaluation/{info['evaluation']}"),
        Page("API list `GET /api/v1/candidature/`", "api", "/api/v1/candidature/"),
        Page("Stats page", "reseau", "/stats/", group="stats"),
        Page("Stats page", "national", "/stats/", group="stats"),
        Page("Certificate PDF", "reseau", f"/candidature/{info['certificat']}/certificat",
             group="pdf"),
    ]


# --- measuring ----------------------------------------------------------------------------

def measure(page: Page, client: Client, capture_dir: Path, conninfo: str) -> None:
    for _ in range(2):
        timed(client, page.path)
    _ms, status, response = timed(client, page.path, headers={"X-Clea-Bench-Capture": "1"})
    page.statements = int(response.getheader("X-Clea-SQL-Statements") or 0)
    ident = response.getheader("X-Clea-Bench-Capture-Id")
    repeat = SLOW_REPEAT if page.group in ("stats",) else REPEAT
    for _ in range(repeat):
        ms, status, _response = timed(client, page.path)
        page.times.append(ms)
        page.statuses.append(status)
    if ident:
        page.floor = replay(conninfo, Capture.load(capture_dir / f"{ident}.json"))


def pdf_floor(app, candidature_id: int) -> float:
    """p50 (ms) of a bare reportlab canvas drawing the certificate's text."""
    import statistics

    from app.extensions import db
    from app.models import Candidature
    from app.services import certification

    with app.test_request_context():
        certificat = certification.certificat_de(db.session.get(Candidature, candidature_id))
        candidat = certificat.candidature.candidat
        lines = ["Certificat CléA", "Socle de connaissances et de compétences professionnelles",
                 f"Le jury {certificat.certificateur.nom} atteste que",
                 f"{candidat.civilite} {candidat.prenoms} {candidat.nom_naissance.upper()}",
                 f"né(e) le {candidat.date_naissance:%d/%m/%Y}",
                 f"a obtenu la certification CléA, délivrée par le jury du "
                 f"{certificat.date_jury:%d/%m/%Y}.", f"Certificat n° {certificat.numero}",
                 "Vérifiez ce certificat :", certification.url_verification(certificat.numero),
                 f"Délivré par {certificat.certificateur.nom}"]
    with tempfile.TemporaryDirectory() as folder:
        return statistics.median(bare_pdf(lines, f"{folder}/c.pdf") * 1000 for _ in range(20))


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _hwm_mb(pid: int) -> float:
    """Peak resident memory so far of a running process (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_export(client: Client, env: dict, base: Path, app, debut) -> dict:
    """The national Stats export (about 100 000 dossiers) as production runs it: the exports
    worker is in service (`flask --app run clea exports --continu`, the loop a thread of
    `flask clea scheduler` runs, here in a process of its own with the web server's
    environment, waiting on Redis); Certif Pro clicks « Exporter (Excel) » (the POST form of
    the Stats page, its CSRF token), which wakes the worker, and lands on « Mes exports »; the
    client polls the JSON status until « prête », then downloads the file. Timed from the POST
    to the last byte; the worker's peak memory is its own (wait4 once stopped), its CPU the
    export's (after minus before). The floor: a bare rustpy-xlsxwriter loop (the export's
    writer) over the same rows, read once beforehand."""
    from app.services import exports
    from tests.world import user

    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "run", "clea", "exports",
               "--continu"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=open(base / "exports.log", "wb"))
    worker.stdout.readline()  # « Processus des exports en service. »: its first look follows
    time.sleep(2)
    idle_mb, idle_cpu = _hwm_mb(worker.pid), _cpu_s(worker.pid)
    query = urllib.parse.urlencode({"debut": debut.isoformat()} if debut else {})
    _response, page = client.request("GET", "/stats/?" + query)
    body = urllib.parse.urlencode({"csrf_token": csrf_token(page)})
    started = time.perf_counter()
    posted, _data = client.request("POST", "/stats/export?" + query, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    location = urllib.parse.urlsplit(posted.getheader("Location") or "").path
    _response, listing = client.request("GET", location or "/exports/")
    etat_url = re.search(rb'data-etat-url="([^"]+)"', listing).group(1).decode()
    polls = 0
    while True:
        _response, data = client.request("GET", etat_url)
        etat, polls = json.loads(data), polls + 1
        if etat["statut"] not in (exports.EN_ATTENTE, exports.EN_COURS):
            break
        if worker.poll() is not None:
            break  # the worker died
        time.sleep(0.2)
    ready = time.perf_counter()
    downloaded, data = client.request("GET", etat_url.rsplit("/", 1)[0] + "/fichier")
    elapsed = time.perf_counter() - started
    export_cpu = _cpu_s(worker.pid) - idle_cpu if worker.poll() is None else float("nan")
    worker.terminate()  # SIGTERM: the loop ends after its current wait
    _pid, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)
    path = base / "export.xlsx"
    path.write_bytes(data)
    result = {"s": elapsed, "ready_s": ready - started, "download_s": elapsed - (ready - started),
              "statuses": f"POST {posted.status}, file {downloaded.status}", "polls": polls,
              "statut": etat.get("statut_libelle"), "erreur": etat.get("erreur"),
              "idle_mb": idle_mb,
              "peak_mb": usage.ru_maxrss / 1024, "worker_cpu_s": export_cpu,
              "file_mb": len(data) / 1024 ** 2, "rows": xlsx_rows(path) if data[:2] == b"PK" else 0}
    with app.test_request_context():
        sous_domaines = exports._sous_domaines()
        headers = exports.entetes_parcours(sous_domaines)
        rows = list(exports.lignes_parcours(user(ROLES["national"]),
                                            exports.Filtres(debut=debut), sous_domaines))
    result["floor_rows"] = len(rows)
    result["floor_s"] = bare_xlsx(headers, rows, str(base / "bare.xlsx"))
    return result


def import_file(rows: int) -> bytes:
    """An .xlsx of `rows` new people in the template's French headers (required columns and a
    few others), names that resemble nobody of the synthetic world (so that every row is
    valid), birth days spread over forty years."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Civilité", "Nom de naissance", "Prénom(s)", "Date de naissance",
                  "Commune de naissance", "Statut à l'inscription", "Objectif professionnel",
                  "Objectif extra-professionnel", "Code postal",
                  "Certificat papier (oui / non)"])
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(rows):
        suffix = "".join(letters[(i // 26 ** k) % 26] for k in range(3))
        sheet.append(["Mme" if i % 2 else "M.", f"Zyxwimport{suffix}", "Élodie" if i % 2
                      else "Marc", (dt.date(1960, 1, 1) + dt.timedelta(days=i * 37 % 14600))
                      .strftime("%d/%m/%Y"), "Lyon", "demandeur_emploi",
                      "Reprendre un emploi dans la logistique après une reconversion.",
                      "Gagner en autonomie dans les démarches du quotidien.", "69001",
                      "oui" if i % 5 == 0 else "non"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def measure_import(client: Client, etablissement_id: int) -> dict:
    """« Importer des candidatures » through the API, as an integrator does it: POST the file
    (every row read and checked, nothing created), then confirm (checked again, created)."""
    contenu = import_file(IMPORT_ROWS)
    boundary = "clea-bench-" + os.urandom(8).hex()
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"etablissement_id\"\r\n\r\n"
        f"{etablissement_id}\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"fichier\"; "
        f"filename=\"candidats.xlsx\"\r\nContent-Type: application/vnd.openxmlformats-"
        f"officedocument.spreadsheetml.sheet\r\n\r\n".encode(), contenu,
        f"\r\n--{boundary}--\r\n".encode()])
    started = time.perf_counter()
    response, data = client.request("POST", "/api/v1/candidature/import", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    checked_s = time.perf_counter() - started
    report = json.loads(data or b"{}")
    result = {"rows": IMPORT_ROWS, "file_kb": len(contenu) / 1024, "check_s": checked_s,
              "check_status": response.status, "valides": report.get("valides", 0),
              "refusees": report.get("refusees", 0), "confirm_s": float("nan"),
              "confirm_status": None, "crees": 0,
              "message": report.get("message", "") if response.status >= 400 else ""}
    if response.status == 200 and report.get("id"):
        started = time.perf_counter()
        response, data = client.request(
            "POST", f"/api/v1/candidature/import/{report['id']}/confirmer",
            body=json.dumps({}), headers={"Content-Type": "application/json"})
        result["confirm_s"] = time.perf_counter() - started
        result["confirm_status"] = response.status
        answer = json.loads(data or b"{}")
        result["crees"] = answer.get("crees", 0)
        if response.status >= 400:
            result["message"] = answer.get("message", "")
    result["s"] = result["check_s"] + result["confirm_s"]
    return result


def xlsx_rows(path: Path, name: str = "Parcours") -> int:
    """Data rows of the sheet `name` of an .xlsx (« Parcours », after the export's
    description sheet): its <row> elements but the header, counted in the sheet's XML as it
    streams out of the zip (the sheet found by its name in the workbook, then its file in
    the workbook's relationships)."""
    import re as re_
    import zipfile

    count, tail = 0, b""
    with zipfile.ZipFile(path) as book:
        workbook = book.read("xl/workbook.xml").decode()
        rels = book.read("xl/_rels/workbook.xml.rels").decode()
    sheet_tag = next(t for t in re_.findall(r"<sheet\b[^>]*>", workbook)
                     if f'name="{name}"' in t)
    rid = re_.search(r'r:id="([^"]+)"', sheet_tag).group(1)
    rel = next(t for t in re_.findall(r"<Relationship\b[^>]*>", rels) if f'Id="{rid}"' in t)
    target = re_.search(r'Target="([^"]+)"', rel).group(1).lstrip("/")
    member = target if target.startswith("xl/") else "xl/" + target
    with zipfile.ZipFile(path) as book, book.open(member) as sheet:
        while chunk := sheet.read(1 << 20):
            text = tail + chunk
            count += text.count(b"<row ") + text.count(b"<row>")
            tail = text[-5:]
            count -= tail.count(b"<row ") + tail.count(b"<row>")
    count += tail.count(b"<row ") + tail.count(b"<row>")
    return count - 1


def mixed(port: int, candidates: list[Page]) -> dict:
    """USERS users (each logged in) request pages of `candidates` for DURATION seconds, each
    waiting about THINK_S seconds between two pages."""
    weights = [1 if p.group == "stats" else 10 for p in candidates]
    times, errors, lock, failed = [], [0], threading.Lock(), {}
    clients = []
    for i in range(USERS):
        role = ("national", "reseau", "etablissement")[i % 3]
        client = Client(port)
        client.login(ROLES[role])
        clients.append((role, client))
    stop_at = time.perf_counter() + DURATION

    def user_loop(role, client, rng):
        # an établissement user opens its home and its Évaluations list; the API list needs a
        # bearer token: left out here
        mine = [(p, w) for p, w in zip(candidates, weights) if p.role == role or (
            role == "etablissement" and p.role == "reseau" and p.path == "/evaluations/")]
        pool, pool_w = [p for p, _w in mine], [w for _p, w in mine]
        while time.perf_counter() < stop_at:
            page = rng.choices(pool, pool_w)[0]
            try:
                ms, status, _r = timed(client, page.path)
            except Exception:  # noqa: BLE001  (a dropped connection is an error of the run)
                ms, status = 0.0, 0
            if THINK_S:
                time.sleep(THINK_S * rng.uniform(0.5, 1.5))
            with lock:
                times.append(ms)
                if status >= 400 or status == 0:
                    errors[0] += 1
                    failed[f"{page.label} ({role}): {status or 'connexion'}"] = failed.get(
                        f"{page.label} ({role}): {status or 'connexion'}", 0) + 1

    threads = [threading.Thread(target=user_loop, args=(role, client, random.Random(i)))
               for i, (role, client) in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"requests": len(times), "errors": errors[0], "p50": percentile(times, 50),
            "p95": percentile(times, 95), "p99": percentile(times, 99),
            "rps": len(times) / elapsed, "failed": failed}


# --- the report ---------------------------------------------------------------------------

def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value >= 100 else f"{value:.1f}"


def num(value: int) -> str:
    return f"{value:,}".replace(",", " ")


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def write_report(info, measured, export, mixed_result, imported, pg_version) -> None:
    commit = git("rev-parse", "HEAD")
    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    out = [
        "# Bench report (`make bench`)",
        "",
        "Generated by `bench/run.py` — do not edit by hand; run `make bench` (or "
        "`make bench BENCH_N=1000000`) again.",
        "",
        f"- commit measured: `{commit}`{dirty}",
        f"- date: {dt.datetime.now():%Y-%m-%d %H:%M}",
        f"- N = {num(N)} candidatures (seed {SEED}); data: {info['source']}",
        f"- machine: {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}; the load client runs on the same cores",
        f"- PostgreSQL {pg_version}, same machine: "
        + ", ".join(f"{k}={v}" for k, v in PG_SETTINGS.items())
        + " (fsync, synchronous_commit and full_page_writes off: a throw-away bench database, "
          "never production settings)",
        "- served by gunicorn with the repository's gunicorn.conf.py; Redis `/usr/bin/redis-server` (CLEA_REDIS_URL); login rate "
        "limits raised (one client address logs every user in)",
        f"- each page: 2 warm-up requests, 1 captured request (its SQL statements recorded by "
        f"CLEA_BENCH_CAPTURE), then {REPEAT} timed requests ({SLOW_REPEAT} for the Stats "
        f"pages) on one keep-alive connection; floor = the captured statements replayed raw "
        f"with psycopg on one connection, rows fetched (p50 / p95 of 7 replays); ratio = page "
        f"÷ floor",
        "- targets are the issue's (at 1 000 000 candidatures); ✓/✗ compares this run's figure "
        "to them",
        "",
        "## Pages",
        "",
        "| page | role | status | p50 ms | p95 ms | p99 ms | SQL statements | floor p50 / p95 ms "
        "| ratio p50 / p95 | targets |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for page in measured:
        p50, p95, p99 = (percentile(page.times, p) for p in (50, 95, 99))
        floor50 = page.floor.get("p50", float("nan")) + page.extra_floor_ms
        floor95 = page.floor.get("p95", float("nan")) + page.extra_floor_ms
        errors = sum(1 for s in page.statuses if s >= 400)
        statuses = ", ".join(sorted({str(s) for s in page.statuses}))
        if page.group == "stats":
            targets = f"p95 < {STATS_P95_MS} {mark(p95 < STATS_P95_MS)}"
        elif page.group == "pdf":
            targets = "—"
        else:
            targets = (f"p95 < {PAGE_P95_MS} {mark(p95 < PAGE_P95_MS)}, ≤ {PAGE_RATIO:g}× "
                       f"{mark(p50 / floor50 <= PAGE_RATIO)}, ≤ {PAGE_SQL} SQL "
                       f"{mark(page.statements <= PAGE_SQL)}, no error {mark(errors == 0)}")
        left = page.floor.get("left_out")
        floor_note = f" ({left} not replayable)" if left else ""
        if page.group == "pdf":
            floor_note += f" (SQL + bare canvas {fmt(page.extra_floor_ms)})"
        role = {"api": "reseau (JWT)"}.get(page.role, page.role)
        label = page.label + (f" — {page.note}" if page.note else "")
        out.append(f"| {label} | {role} | {statuses} | {fmt(p50)} | {fmt(p95)} | {fmt(p99)} | "
                   f"{page.statements} | {fmt(floor50)} / {fmt(floor95)}{floor_note} | "
                   f"{p50 / floor50:.1f}× / {p95 / floor95:.1f}× | {targets} |")
    ratio = export["s"] / export["floor_s"] if export.get("floor_s") else float("nan")
    out += [
        "",
        "## Export, concurrency, synth",
        "",
        "| measure | figure | floor | ratio | targets |",
        "|---|---|---|---|---|",
        f"| Stats export of {num(export['rows'])} dossiers (Certif Pro"
        f"{', created from ' + str(info['export_debut']) if info['export_debut'] else ''}), "
        f"end to end: « Exporter (Excel) » (POST /stats/export, CSRF token) → « Mes exports » "
        f"→ the exports worker in service (`flask --app run clea exports --continu`, the "
        f"loop `flask clea scheduler` runs in a thread; here a process of its own with "
        f"gunicorn's environment) woken through Redis by the POST → JSON "
        f"status polled every 0.2 s ({export['polls']} polls) until « {export['statut']} »"
        f"{' (' + export['erreur'] + ')' if export['erreur'] else ''} → file downloaded "
        f"({export['file_mb']:.1f} MB; {export['statuses']}) | {export['s']:.1f} s (ready "
        f"after {export['ready_s']:.1f} s, download {export['download_s']:.1f} s); peak "
        f"memory of the worker process {export['peak_mb']:.0f} MB (maxrss, wait4; "
        f"{export['idle_mb']:.0f} MB in service before the export), CPU of the export "
        f"{export['worker_cpu_s']:.1f} s | bare rustpy-xlsxwriter loop (the export's writer) "
        f"over the same {num(export['floor_rows'])} rows, read beforehand from the export's "
        f"query: {export['floor_s']:.1f} s | {ratio:.1f}× | < {EXPORT_S} s "
        f"{mark(export['s'] < EXPORT_S)}, < {EXPORT_MB} MB {mark(export['peak_mb'] < EXPORT_MB)}"
        f", ≤ {EXPORT_RATIO}× {mark(ratio <= EXPORT_RATIO)}, rows = floor's "
        f"{mark(export['rows'] == export['floor_rows'])} |",
        f"| {USERS} concurrent users, mixed workload, {DURATION} s (each user logged in with "
        f"its own session, one third per role; the pages above but the PDF, Stats 1/10 of the "
        f"weight of a page; {THINK_S:g} s on average between two pages of a user) | {mixed_result['requests']} requests, {mixed_result['errors']} "
        f"errors, p50 {fmt(mixed_result['p50'])} ms, p95 {fmt(mixed_result['p95'])} ms, p99 "
        f"{fmt(mixed_result['p99'])} ms, {mixed_result['rps']:.1f} req/s | — | — | 0 errors "
        f"{mark(mixed_result['errors'] == 0)}, p95 < {MIXED_P95_MS} "
        f"{mark(mixed_result['p95'] < MIXED_P95_MS)} |",
        *(["| errors of the concurrent run | " + "; ".join(
            f"{k} × {v}" for k, v in sorted(mixed_result["failed"].items())) + " | | | |"]
          if mixed_result["failed"] else []),
        f"| « Importer des candidatures » through the API (Administrateur réseau, JWT), "
        f"{num(imported['rows'])} rows of an .xlsx ({imported['file_kb']:.0f} KB) into the "
        f"réseau's busiest établissement: POST /api/v1/candidature/import (read, every row "
        f"checked as one creation, near-duplicates against the whole base; HTTP "
        f"{imported['check_status']}: {num(imported['valides'])} valid, "
        f"{num(imported['refusees'])} refused) then POST …/import/<id>/confirmer (checked "
        f"again, created in one transaction; HTTP {imported['confirm_status']}: "
        f"{num(imported['crees'])} dossiers created)"
        f"{' — ' + imported['message'] if imported['message'] else ''} | "
        f"{imported['s']:.1f} s (check {imported['check_s']:.1f} s, confirm "
        f"{imported['confirm_s']:.1f} s) | — | — | {num(IMPORT_ROWS)} rows < {IMPORT_S} s "
        f"{mark(imported['s'] < IMPORT_S)}, all created "
        f"{mark(imported['crees'] == imported['rows'])} |",
        f"| synth of {num(N)} candidatures | {info['synth_s']:.1f} s | — | — | 1 000 000 in < 15 min"
        f": {mark(info['synth_s'] * 1_000_000 / N < SYNTH_S_PER_MILLION)} (extrapolated "
        f"linearly below 1 000 000) |",
        "",
        f"Synth, step by step (machine load average before the run: "
        f"{' / '.join(f'{x:.2f}' for x in info['load_before'])}):",
        "",
        "| step | s |",
        "|---|---|",
        *[f"| {label} | {seconds:.1f} |" for label, seconds in info["synth_steps"]],
        "",
    ]
    REPORT.write_text("\n".join(out))


def main() -> None:
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="clea-bench-"))
    os.chmod(base, 0o755)
    server = TunedPostgres(base)
    processes = []
    log(f"PostgreSQL ({base})")
    server.start()
    try:
        server.execute("CREATE DATABASE clea_bench")
        url = server.url("clea_bench")
        log("schema, roles, référentiel, users")
        prepare_database(url)
        from app import create_app

        app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=url,
                         UPLOAD_DIR=str(base / "uploads"))
        with app.app_context():
            from sqlalchemy import text

            from app.extensions import db

            log(f"synth {N}")
            info = load_data()
            log(f"synth: {info['synth_s']:.1f} s")
            pg_version = db.session.execute(text("SHOW server_version")).scalar()
            db.session.remove()
            redis_process, redis_url = start_redis(base)
            processes.append(redis_process)
            log("gunicorn")
            env = app_env(url, redis_url, base)
            gunicorn, port = start_app(env, base)
            processes.append(gunicorn)
            clients = {}
            for role, username in ROLES.items():
                clients[role] = Client(port)
                clients[role].login(username)
            clients["api"] = Client(port)
            clients["api"].api_login(ROLES["reseau"])
            measured = pages(info)
            conninfo = server.conninfo("clea_bench")
            for page in measured:
                log(f"{page.label} ({page.role})")
                measure(page, clients[page.role], base / "capture", conninfo)
                if page.group == "pdf":
                    page.extra_floor_ms = pdf_floor(app, info["certificat"])
            log("export")
            export = measure_export(clients["national"], env, base, app, info["export_debut"])
            log(f"mixed workload, {USERS} users, {DURATION} s")
            mixed_result = mixed(port, [p for p in measured if p.group != "pdf"])
            log(f"import of {IMPORT_ROWS} rows")  # last: it adds dossiers to the base
            imported = measure_import(clients["api"], info["etab"])
            log(f"import: {imported['s']:.1f} s, {imported['crees']} created")
            write_report(info, measured, export, mixed_result, imported, pg_version)
            db.session.remove()
            db.engine.dispose()
    finally:
        for process in reversed(processes):
            stop(process)
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    log(f"{REPORT.relative_to(ROOT)} written in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    # a TERM (or Ctrl+C) still stops the servers started here and removes their files
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    main()
