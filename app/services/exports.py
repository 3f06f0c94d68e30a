"""The Excel exports of the Stats tab (guide §7, DESIGN §10), prepared off the request.

A user asks for an export (`demander`): a row of export_job « en attente » with its kind and
filters. The scheduler process (job « exports », every CLEA_EXPORT_INTERVAL_SECONDS) or
`flask clea exports` claims each waiting row by one conditional UPDATE (two processes never
run the same export), writes the file, updates the progress after each batch of rows, and
ends « prête » (file in place, notification « Export prêt » to its owner) or « échouée »
(with a French message). « Mes exports » lists the user's exports; only the owner downloads
the file (404 for anyone else), which goes to the audit journal as the synchronous exports
did. After CLEA_EXPORT_HEURES the export is « expirée » and its file erased.

Files are written under UPLOAD_DIR by services/stockage.py's rules: under the temporary name
while being written, moved into place by the commit that makes the job « prête », erased by
the commit that expires it, and the sweep (job balayer_fichiers) finishes what a crash
interrupted.

The writer was chosen by measurement (bench/xlsx_writers.py, pyproject.toml). The parcours
rows are read by batches of BATCH dossiers (their ids read once, in order), one statement
per batch: plain columns of stats_dossier, which services/agregats.py keeps in the
transactions that change them (the steps' dates, hours, last decision, certificate, last
evaluation and its results as bit masks), joined by primary keys to the candidat, the
établissement and the organisme, the labels translated by the database. On PostgreSQL a
thread of its own reads and formats the next batches while the writer writes the current one (at most two batches ahead: memory stays flat);
measured by bench/export_speed.py."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import itertools
import os
import queue
import secrets
import threading
from decimal import Decimal
from typing import Any, Callable, Iterator, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Date, Integer, any_, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import Certificat, Certificateur, Etablissement, ExportJob, Organisme, Utilisateur
from app.models import candidature as C
from app.models.candidature import Candidat, Candidature
from app.models.evaluation import Evaluation
from app.models.agregats import StatsDossier
from app.models.referentiel import Domaine, SousDomaine
from app.security.access import is_national

from . import agregats, audit, notifications, partage, stockage
from . import candidatures as dossiers
from .errors import ForbiddenError, RuleError, ServiceError
from . import tarifs
from .stats import Filtres, _dossiers, _periode, filtres_lisibles, indicateurs, verifier_acces

log = logging.getLogger(__name__)

BATCH = 10_000  # dossiers read per batch (two statements each), formatted, written
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EN_ATTENTE, EN_COURS, PRETE, ECHOUEE, EXPIREE = ExportJob.STATUTS
STATUTS = {EN_ATTENTE: _l("En attente"), EN_COURS: _l("En cours"), PRETE: _l("Prête"),
           ECHOUEE: _l("Échouée"), EXPIREE: _l("Expirée")}
# kind → (label, file name, audit action, national only)
KINDS = {
    "parcours": (_l("Parcours des dossiers"), "parcours-clea.xlsx", "exporter_parcours",
                 False),
    "facturation": (_l("Facturation par organisme"), "facturation-clea.xlsx",
                    "exporter_facturation", True),
    "registre": (_l("Titulaires (registre national)"), "registre-titulaires-clea.xlsx",
                 "exporter_registre", True),
}
# an export « en cours » whose progress has not moved for this long was interrupted (its
# process died): it is marked « échouée » so that its owner asks again
INTERROMPU_APRES = dt.timedelta(minutes=30)

Progression = Callable[[int], None]


# --- asking, listing, downloading ----------------------------------------------------------

def _national(by: Any) -> None:
    verifier_acces(by)
    if not is_national(by):
        raise ForbiddenError(_("Cet export est réservé à Certif Pro."))


def verifier(by: Any, kind: str) -> None:
    """Who may ask for this kind of export (the same rules as the synchronous exports had)."""
    if kind not in KINDS:
        raise RuleError(_("Type d'export inconnu."), field="type")
    if KINDS[kind][3]:
        _national(by)
    else:
        verifier_acces(by)


def _filtres_json(f: Filtres) -> str:
    return json.dumps({k: (v.isoformat() if isinstance(v, dt.date) else v)
                       for k, v in dataclasses.asdict(f).items() if v not in (None, "")})


FILE = "exports"  # the queue's name for the wake-ups (partage.reveiller)


def demander(by: Any, kind: str, f: Filtres) -> ExportJob:
    """Queue an export for `by`; the exports worker (a thread of the scheduler process, or
    `flask clea exports --continu`) prepares it, woken at once through Redis."""
    verifier(by, kind)
    job = ExportJob(user_id=by.id, kind=kind, filtres=_filtres_json(f), statut=EN_ATTENTE,
                    lignes_faites=0, created_on=dt.datetime.now())
    db.session.add(job)
    db.session.commit()
    if partage.actif():
        try:
            partage.reveiller(FILE)
        except Exception:  # noqa: BLE001  (the worker's next look finds it all the same)
            log.warning("Export %s : réveil du processus des exports impossible", job.id)
    return job


def mes_exports(by: Any, limit: int = 50) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.user_id == by.id)
                                   .order_by(ExportJob.created_on.desc(), ExportJob.id.desc())
                                   .limit(limit)))


def du_demandeur(by: Any, job_id: Any) -> ExportJob:
    """The user's own export, else 404 (another user's export does not exist for them)."""
    try:
        pk = int(job_id)
    except (TypeError, ValueError):
        raise NotFound()
    job = db.session.get(ExportJob, pk)
    if job is None or by is None or job.user_id != by.id:
        raise NotFound()
    return job


def telechargeable(job: ExportJob) -> bool:
    return job.statut == PRETE and bool(job.fichier)


def libelle(job: ExportJob) -> str:
    return str(KINDS[job.kind][0]) if job.kind in KINDS else job.kind


def filtres_texte(job: ExportJob) -> str:
    try:
        return audit.filtres_texte(json.loads(job.filtres or "{}"))
    except ValueError:
        return ""


def etat(job: ExportJob) -> dict:
    """What « Mes exports » and the API show of an export (polled while it is prepared)."""
    total = job.lignes_total
    faites = job.lignes_faites or 0
    return {"id": job.id, "type": job.kind, "libelle": libelle(job), "statut": job.statut,
            "statut_libelle": str(STATUTS.get(job.statut, job.statut)),
            "lignes_faites": faites, "lignes_total": total,
            "pourcentage": (100 if job.statut == PRETE else
                            int(100 * faites / total) if total else 0),
            "erreur": job.erreur, "pret": telechargeable(job),
            "demande_le": job.created_on.isoformat(timespec="seconds"),
            "termine_le": job.finished_on.isoformat(timespec="seconds")
            if job.finished_on else None,
            "expire_le": job.expire_le.isoformat(timespec="seconds") if job.expire_le else None}


def telecharger(by: Any, job_id: Any):
    """(path, download name) of the owner's ready export, recorded in the audit journal."""
    job = du_demandeur(by, job_id)
    if not telechargeable(job):
        raise NotFound()
    path = stockage.chemin(job.fichier, db.session)
    if not path.exists():
        raise NotFound()
    _label, name, action, _nat = KINDS[job.kind]
    audit.consigner(by, action, None, filtres_texte(job) or None)
    return path, name


# --- running the queue ----------------------------------------------------------------------

def _prendre(job_id: int) -> bool:
    """Claim a waiting export for this process: one conditional UPDATE, so that of two
    schedulers (or a scheduler and `flask clea exports`) exactly one gets it."""
    from app.jobs.locks import OWNER

    now = dt.datetime.now()
    taken = db.session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.statut == EN_ATTENTE)
        .values(statut=EN_COURS, pris_par=OWNER, started_on=now, updated_on=now)).rowcount
    db.session.commit()
    return taken == 1


def executer_en_attente() -> dict[str, int]:
    """Job « exports »: expire and interrupt what must be, then run the waiting exports, the
    oldest first, each claimed before it runs."""
    bilan = {"pretes": 0, "echouees": 0, **balayer()}
    while True:
        job_id = db.session.scalar(select(ExportJob.id).where(ExportJob.statut == EN_ATTENTE)
                                   .order_by(ExportJob.id).limit(1))
        db.session.rollback()
        if job_id is None:
            return bilan
        if _prendre(job_id):
            ok = executer(job_id)
            bilan["pretes" if ok else "echouees"] += 1


def _progression(job_id: int) -> Progression:
    """The progress of a running export, committed at once (« Mes exports » polls it). Called
    between batches only, when no result is being streamed."""
    def ecrire(**values) -> None:
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            updated_on=dt.datetime.now(), **values))
        db.session.commit()

    def avancer(faites: int) -> None:
        ecrire(lignes_faites=faites)

    avancer.total = lambda total: ecrire(lignes_total=total)  # type: ignore[attr-defined]
    return avancer


def executer(job_id: int) -> bool:
    """Prepare one claimed export; True when it is ready."""
    job = db.session.get(ExportJob, job_id)
    owner = db.session.get(Utilisateur, job.user_id)
    kind, name = job.kind, f"export-{secrets.token_hex(16)}.xlsx"
    temp = stockage.temporaire(stockage.storage_dir() / name)
    try:
        f = Filtres.depuis(json.loads(job.filtres or "{}"))
        verifier(owner, kind)
        total = WRITERS[kind](owner, f, str(temp), _progression(job_id))
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        stockage.adopter(db.session, name)
        job = db.session.get(ExportJob, job_id)
        now = dt.datetime.now()
        job.statut, job.fichier, job.finished_on, job.updated_on = PRETE, name, now, now
        job.lignes_faites = job.lignes_total = total
        job.expire_le = now + dt.timedelta(hours=current_app.config["CLEA_EXPORT_HEURES"])
        notifications.notify(
            [owner], notifications.EXPORTS, _("Export prêt"),
            _("Votre export « %(export)s » est prêt : téléchargez-le depuis « Mes exports » "
              "avant le %(date)s.", export=libelle(job),
              date=job.expire_le.strftime("%d/%m/%Y à %H h %M")), lien="/exports/")
        db.session.commit()
        return True
    except Exception as error:  # the export fails, the queue goes on
        stockage.annuler(db.session)
        temp.unlink(missing_ok=True)
        if isinstance(error, ServiceError):
            message = error.message
        else:
            log.exception("Export %s en échec", job_id)
            message = _("L'export n'a pas pu être préparé. Réessayez ; si l'échec se répète, "
                        "contactez le support.")
        db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(
            statut=ECHOUEE, erreur=str(message), finished_on=dt.datetime.now()))
        db.session.commit()
        return False


def balayer(now: Optional[dt.datetime] = None) -> dict[str, int]:
    """Ready exports past their expiry become « expirée » (their file is erased by the commit);
    an export « en cours » whose progress stopped long ago (its process died) « échouée »."""
    now = now or dt.datetime.now()
    expirees = list(db.session.execute(select(ExportJob.id, ExportJob.fichier).where(
        ExportJob.statut == PRETE, ExportJob.expire_le < now)))
    if expirees:
        stockage.effacer_apres_commit(db.session, [f for _id, f in expirees])
        db.session.execute(update(ExportJob).where(
            ExportJob.id.in_([i for i, _f in expirees])).values(statut=EXPIREE, fichier=None))
    interrompus = db.session.execute(update(ExportJob).where(
        ExportJob.statut == EN_COURS, ExportJob.updated_on < now - INTERROMPU_APRES).values(
        statut=ECHOUEE, finished_on=now,
        erreur=_("L'export a été interrompu avant d'être prêt. Demandez-le de nouveau."))
    ).rowcount
    db.session.commit()
    return {"expirees": len(expirees), "interrompues": interrompus}


# --- the writer -----------------------------------------------------------------------------

@dataclasses.dataclass
class Feuille:
    nom: str
    entetes: list[str]
    lignes: Any                    # an iterable of lists (len ≤ len(entetes))
    figee: bool = True             # header frozen and filtered
    bandeau: Optional[str] = None  # a line above the header (facturation: the period)


def feuille_de_garde(by: Any, titre: str, details: list) -> Feuille:
    """The first sheet of every export: what it is, for whom and when, the perimeter, then
    `details` ((label, value): the filters that made it), so that a file forwarded later
    still says what it holds."""
    lignes = [[_("Export"), titre],
              [_("Établi pour"), audit._user_name(by) or _("la plateforme")],
              [_("Le"), dt.datetime.now().replace(microsecond=0)],
              [_("Périmètre"), (getattr(by, "perimetre_label", None) or _("National"))
               if by is not None else _("National")]]
    lignes += [[label, valeur] for label, valeur in details]
    return Feuille(_("Export"), [_("Information"), _("Valeur")], lignes, figee=False)


def _garde(by: Any, kind: str, f: Filtres) -> Feuille:
    return feuille_de_garde(by, str(KINDS[kind][0]), filtres_lisibles(f) or [
        (_("Filtres"), _("Aucun : toute la période, tout le périmètre"))])


def ecrire(path: str, feuilles: list[Feuille], garde: Optional[Feuille] = None) -> None:
    """The workbook, with rustpy-xlsxwriter (Rust, constant memory: rows streamed): the
    export's description first (`garde`), then bold headers, dates as dates (jj/mm/aaaa),
    the header frozen and filtered."""
    from rustpy_xlsxwriter import FastExcel

    if garde is not None:
        feuilles = [garde] + list(feuilles)

    book = FastExcel(path).format(bold_headers=True, datetime_format="dd/mm/yyyy")
    def records(keys, lignes):  # the writer takes one dict per row, keyed by the headers
        for ligne in lignes:
            yield dict(zip(keys, ligne))

    for feuille in feuilles:
        keys = feuille.entetes
        rows = records(keys, feuille.lignes)
        options: dict[str, Any] = {"autofilter": feuille.figee}
        if feuille.bandeau:
            options.update(header_row=1, merge_ranges=[
                (0, 0, 0, len(keys) - 1, feuille.bandeau)])
        if feuille.figee:
            book.freeze(row=(2 if feuille.bandeau else 1), sheet=feuille.nom)
        book.sheet(feuille.nom, rows, **options)
    book.save()


def _compte(lignes: Iterator[list], avancer: Progression, pas: Optional[int] = None):
    """Pass the rows through, telling the progress every `pas` rows (BATCH: after each batch
    read); `compte.n` at the end."""
    pas = pas or BATCH

    class compte:
        n = 0

    def rows():
        for ligne in lignes:
            yield ligne
            compte.n += 1
            if compte.n % pas == 0:
                avancer(compte.n)
    return compte, rows()


# --- parcours -------------------------------------------------------------------------------

def _sous_domaines() -> list[tuple[int, str]]:
    return [(i, f"{code} {intitule}") for i, code, intitule in db.session.execute(
        select(SousDomaine.id, SousDomaine.code, SousDomaine.intitule).join(Domaine)
        .order_by(*agregats.ORDRE_SOUS_DOMAINES))]


def entetes_parcours(sous_domaines: list[tuple[int, str]]) -> list[str]:
    return [_("N° de dossier"), _("Nom de naissance"), _("Nom d'usage"), _("Prénom(s)"),
            _("Date de naissance"), _("E-mail"), _("Organisme"), _("Établissement"),
            _("Type de public"), _("Niveau"), _("Statut"), _("Création"),
            _("Évaluation préalable"), _("Évaluation finale validée"),
            _("Envoi en certification"), _("Décision du jury"), _("Dernière évaluation"),
            _("Résultat"), _("Heures de formation"), _("Décision"), _("N° de certificat"),
            *(label for _id, label in sous_domaines)]


def _libelle(column, labels: dict[str, str]):
    """The translated label of a code column, by the database ('' for none or unknown): the
    labels are translated once, in Python, and sent as the statement's parameters."""
    return case(*((column == code, literal(label)) for code, label in labels.items()),
                else_=literal(""))


def _decodeur(n: int, acquis: str, non_acquis: str) -> Callable[[Any, Any], tuple]:
    """From a row's results masks (stats_dossier.masque_acquis / masque_non_acquis: bit i for
    the i-th sous-domaine) to its n cells (« Acquis », « Non acquis » or None), by a table of
    CHUNK bits built once: a few lookups per row, not n tests."""
    def cell(a: int, na: int, i: int):
        return acquis if a >> i & 1 else non_acquis if na >> i & 1 else None

    table = [[tuple(cell(a, na, i) for i in range(CHUNK)) for na in range(1 << CHUNK)]
             for a in range(1 << CHUNK)]
    vide = (None,) * n
    plan = [(shift, min(CHUNK, n - shift)) for shift in range(0, n, CHUNK)]
    plein = all(keep == CHUNK for _s, keep in plan)
    bits = (1 << CHUNK) - 1

    def decode(a, na) -> tuple:
        if a is None:  # no finalized evaluation, or one without results
            return vide
        out: tuple = ()
        for shift, keep in plan:
            cells = table[a >> shift & bits][na >> shift & bits]
            out += cells if plein else cells[:keep]
        return out
    return decode


CHUNK = 7  # bits decoded at once by a table built once (128 × 128 entries)


def requete_parcours(by: Any, f: Filtres, dates_en_sql: bool) -> Callable[[list[int]], Any]:
    """The statement of one batch: its ids (`.ids`: the statement of every id of the
    perimeter and filters, in order) → its dossiers in the order of the ids, ready for the
    writer but for the name in capitals and the results' masks. Every figure is a plain
    column of stats_dossier (the steps' dates, last evaluation and its results' masks, hours,
    last decision, certificate: services/agregats.py keeps them in the transactions that
    change them), joined to the candidature, the candidat, the établissement and the
    organisme by their primary keys for the batch's ids; the labels are translated once and
    sent as the statement's parameters."""
    from .certification import DECISIONS as DECISION_LABELS

    ids = _dossiers(by, f)
    jour = (lambda column: cast(column, Date)) if dates_en_sql else (lambda column: column)
    publics = {c: str(l) for c, l in dossiers.TYPES_PUBLIC.items()}
    statuts = {c: str(l) for c, l in dossiers.STATUTS.items()}
    types_eval = {"prealable": _("préalable"), "finale": _("finale")}
    resultats_eval = {"valide": _("Validé"), "non_valide": _("Non validé")}
    decisions_ = {c: str(l) for c, l in DECISION_LABELS.items()}
    vide = literal("")
    S = StatsDossier
    postgres = db.session.get_bind().dialect.name == "postgresql"

    def lot_de(lot: list[int]):
        if postgres:  # one array parameter, however many ids
            dans = S.candidature_id == any_(literal(lot, ARRAY(Integer)))
        else:
            dans = S.candidature_id.in_(lot)
        return (select(
            S.candidature_id, Candidat.nom_naissance, func.coalesce(Candidat.nom_usage, vide),
            Candidat.prenoms, Candidat.date_naissance, func.coalesce(Candidat.email, vide),
            Organisme.raison_sociale, Etablissement.nom,
            _libelle(S.type_public, publics), S.niveau, _libelle(S.statut, statuts),
            jour(S.cree_le), jour(S.prealable_le), jour(S.finale_le), jour(S.envoi_le),
            jour(S.decision_le), _libelle(S.derniere_type, types_eval),
            _libelle(S.derniere_resultat, resultats_eval),
            func.coalesce(S.heures, literal(0.0)), _libelle(S.derniere_decision, decisions_),
            func.coalesce(S.certificat_numero, vide), S.masque_acquis, S.masque_non_acquis)
            .join(Candidature, Candidature.id == S.candidature_id)
            .join(Candidat, Candidat.id == Candidature.candidat_id)
            .join(Etablissement, Etablissement.id == S.etablissement_id)
            .join(Organisme, Organisme.id == S.organisme_id)
            .where(dans)
            .order_by(S.candidature_id))

    # the ids of the perimeter and filters, read once, in order: each batch then names its
    # own (a filter such as a period spreads them over the whole range of ids, and a
    # subquery repeated in the batch's condition would scan the candidatures each time);
    # _dossiers is itself a select of the candidatures' ids: ordered as it is, not wrapped in
    # « id IN (…) », which made PostgreSQL join the whole table to it (0.28 s for 100 000 of
    # 1 000 000 ids, 0.05 s ordered as it is)
    lot_de.ids = ids.order_by(Candidature.id)  # type: ignore[attr-defined]
    return lot_de


DATES = slice(11, 16)  # the steps' dates in a row of requete_parcours
MASQUES = 21           # where the results' masks start (acquis, non acquis)


def _formateur(sous_domaines: list[tuple[int, str]], dates_en_sql: bool
               ) -> Callable[[Any], tuple]:
    """A row of requete_parcours → the cells of the sheet (what is left to Python: the name
    in capitals, the results decoded, and on SQLite the dates, which it hands back as
    timestamps or text)."""
    decode = _decodeur(len(sous_domaines), _("Acquis"), _("Non acquis"))
    if dates_en_sql:
        def ligne(row) -> tuple:
            return (row[0], row[1].upper(), *row[2:MASQUES], *decode(row[21], row[22]))
    else:
        def ligne(row) -> tuple:
            return (row[0], row[1].upper(), *row[2:11], *map(_day, row[DATES]),
                    *row[16:MASQUES], *decode(row[21], row[22]))
    return ligne


def _dates_en_sql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lots(execute: Callable[[Any], Any], lot_de: Callable[[list[int]], Any],
          ligne: Callable[[Any], tuple], ids: Optional[list[int]] = None) -> Iterator[list]:
    """The formatted rows, batch after batch: the ids in one statement (unless given), then
    one statement per batch of BATCH ids (its rows)."""
    if ids is None:
        ids = _ids(execute, lot_de)
    for start in range(0, len(ids), BATCH):
        yield list(map(ligne, execute(lot_de(ids[start:start + BATCH])).all()))


def _ids(execute: Callable[[Any], Any], lot_de) -> list[int]:
    return list(execute(lot_de.ids).scalars())


def lignes_parcours(by: Any, f: Filtres, sous_domaines: list[tuple[int, str]]
                    ) -> Iterator[tuple]:
    """One row per dossier of the perimeter and filters, by batches of BATCH, one statement
    per batch after the ids' (_lots, requete_parcours), read in line (bench/ and tests
    compare with it)."""
    en_sql = _dates_en_sql()
    for lot in _lots(db.session.execute, requete_parcours(by, f, en_sql),
                     _formateur(sous_domaines, en_sql)):
        yield from lot


class _Brut:
    """A batch's rows as the driver gives them (plain tuples), for the reader of a large
    export: SQLAlchemy's Row objects took a third of its time, and its time is taken from
    the writer (one interpreter lock for both). The statement goes through SQLAlchemy all
    the same (compiled, cached, seen by its events); only its rows are fetched raw, their
    types being those the driver gives (text, integers, dates, floats)."""

    def __init__(self, connection, statement):
        self.result = connection.execute(statement)

    def all(self) -> list:
        try:
            return self.result.cursor.fetchall()
        finally:
            self.result.close()


def _brut(connection) -> Callable[[Any], _Brut]:
    return lambda statement: _Brut(connection, statement)


class _LotsEnAvance:
    """The rows by batches of BATCH (_lots), read and formatted by a thread of its own on a
    connection of its own, started at once and at most `profondeur` batches ahead of the
    writer: the database prepares the next batch while the current one is written, and
    memory stays bounded. Iterated by the writer; an error of the reader is raised there.
    close() (always called) stops the reader before its next batch and gives its connection
    back to the pool, whether the writer ended or failed."""

    def __init__(self, engine, lot_de: Callable[[list[int]], Any],
                 ligne: Callable[[Any], tuple], ids: list[int], profondeur: int = 2):
        self.engine, self.lot_de, self.ligne, self.ids = engine, lot_de, ligne, ids
        self.lots: queue.Queue = queue.Queue(maxsize=profondeur)
        self.arret = threading.Event()
        self.fin = object()
        self.lecteur = threading.Thread(target=self._lire, name="export-lecteur", daemon=True)
        self.lecteur.start()

    def _poser(self, item) -> bool:
        while not self.arret.is_set():
            try:
                self.lots.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _lire(self) -> None:
        try:
            with self.engine.connect() as connection:
                # for this export's statements only: PostgreSQL would JIT-compile each
                # batch's statement (its cost passes jit_above_cost), which takes longer
                # than running it, and would run it on parallel workers, which each build
                # the same hash tables again, taking from the writer the cores it needs;
                # and each table is read by its index for the batch's ids: a batch of
                # 10 000 ids made it hash the whole candidat table (937 500 rows, 0.85 s of
                # a 1.5 s batch at 1 000 000) and scan the certificates, where 10 000 index
                # lookups take 0.08 s
                connection.exec_driver_sql(
                    "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; "
                    "SET LOCAL enable_seqscan = off")
                for lot in _lots(_brut(connection), self.lot_de, self.ligne, self.ids):
                    if not self._poser(lot):
                        return
            self._poser(self.fin)
        except BaseException as error:  # noqa: BLE001  (handed to the writer's thread)
            self._poser(error)

    def __iter__(self) -> Iterator[list]:
        while True:
            try:
                item = self.lots.get(timeout=0.2)
            except queue.Empty:
                if self.arret.is_set():  # closed before its end: the writer stops too
                    raise RuntimeError("export interrompu") from None
                continue
            if item is self.fin:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.arret.set()
        self.lecteur.join()


def _day(value) -> Optional[dt.date]:
    if isinstance(value, str):  # SQLite hands back some aggregated dates as text
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else value


def exporter(by: Any, f: Filtres, path: str, avancer: Progression = lambda n: None) -> int:
    """Write the parcours export to `path`; returns the number of dossiers. Sheet
    « Parcours »: one row per dossier; sheet « Indicateurs »: the Stats page's figures
    (services/stats.indicateurs, read from the aggregates). On PostgreSQL the rows are read
    by a thread of their own, a batch ahead of the writer (_LotsEnAvance), started before
    the indicators are read; SQLite reads them in line."""
    verifier_acces(by)
    sous_domaines = _sous_domaines()
    en_sql = _dates_en_sql()
    lot_de = requete_parcours(by, f, en_sql)
    ids = _ids(db.session.execute, lot_de)  # read once: the total, then the batches
    _total(avancer, len(ids))
    ligne = _formateur(sous_domaines, en_sql)
    garde = _garde(by, "parcours", f)
    garde.lignes = _textes(garde.lignes)
    parcours = (_("Parcours"), entetes_parcours(sous_domaines))
    entetes_ind = [_("Indicateurs"), [_("Indicateur"), _("Valeur"), _("Valeur 2"),
                                      _("Valeur 3"), _("Valeur 4"), _("Valeur 5")]]
    if not en_sql:  # in line: the indicators, then the rows read as they are written
        source = _lots(db.session.execute, lot_de, ligne, ids)
        compte, rows = _compte(itertools.chain.from_iterable(source), avancer)
        ind_rows = _textes(lignes_indicateurs(indicateurs(by, f)))
        ecrire(path, [Feuille(*parcours, rows), Feuille(*entetes_ind, ind_rows, figee=False)],
               garde=garde)
        return compte.n
    # PostgreSQL: the reader starts now, the writer at once on a thread of its own; this
    # thread reads the indicators meanwhile (their sheet comes last: the writer waits for
    # them there) and then commits the progress the writer reports
    source: Any = _LotsEnAvance(db.engine, lot_de, ligne, ids)
    ind_rows = _Promesse()
    ecriture = _EcritureEnFond()
    compte, rows = _compte(itertools.chain.from_iterable(source), ecriture.progres.put)
    try:
        ecriture.demarrer(path, [Feuille(*parcours, rows),
                                 Feuille(*entetes_ind, ind_rows, figee=False)], garde)
        try:
            ind_rows.tenir(_textes(lignes_indicateurs(indicateurs(by, f))))
        except BaseException as error:
            ind_rows.tenir(erreur=error)
            raise
        ecriture.suivre(avancer)
    finally:
        source.close()  # the reader stops (its connection goes back) if anything failed
        ecriture.attendre()
    return compte.n


def _textes(lignes) -> list[list]:
    """Rows with their lazy (translated) labels made text, in the thread that knows the
    language: the writer's thread has no request."""
    return [[str(c) if isinstance(c, LazyString) else c for c in ligne] for ligne in lignes]


class _Promesse:
    """A sheet's rows given later (the indicators): the writer's thread waits for them when
    it reaches their sheet; an error given instead is raised there."""

    def __init__(self):
        self.pret = threading.Event()
        self.lignes: list = []
        self.erreur: Optional[BaseException] = None

    def tenir(self, lignes: Optional[list] = None, erreur: Optional[BaseException] = None):
        self.lignes, self.erreur = lignes or [], erreur
        self.pret.set()

    def __iter__(self) -> Iterator[list]:
        self.pret.wait()
        if self.erreur is not None:
            raise RuntimeError("indicateurs en échec") from self.erreur
        yield from self.lignes


class _EcritureEnFond:
    """ecrire() on a thread of its own (PostgreSQL path), so that the indicators are read
    while the rows are written (0.4 to 0.8 s at 1 000 000 dossiers with a period filter).
    The writer only reports its progress (`progres`, one count per BATCH rows); the calling
    thread commits it (suivre), being the only one to use the session."""

    def __init__(self):
        self.progres: queue.Queue = queue.Queue()
        self.erreur: Optional[BaseException] = None
        self.fil: Optional[threading.Thread] = None

    def demarrer(self, path: str, feuilles: list, garde: Feuille) -> None:
        self.fil = threading.Thread(target=self._ecrire, args=(path, feuilles, garde),
                                    name="export-ecriture", daemon=True)
        self.fil.start()

    def _ecrire(self, path, feuilles, garde) -> None:
        try:
            ecrire(path, feuilles, garde=garde)
        except BaseException as error:  # noqa: BLE001  (raised again by suivre)
            self.erreur = error
        finally:
            self.progres.put(None)

    def suivre(self, avancer: Progression) -> None:
        """Tell each progress reported until the writer ends; its error is raised here."""
        while (faites := self.progres.get()) is not None:
            avancer(faites)
        self.attendre()
        if self.erreur is not None:
            raise self.erreur

    def attendre(self) -> None:
        if self.fil is not None:
            self.fil.join()


def _total(avancer: Progression, total: int) -> None:
    setter = getattr(avancer, "total", None)
    if setter:
        setter(total)


def lignes_indicateurs(ind) -> Iterator[list]:
    yield [_("Dossiers"), ind.total]
    yield []
    yield [_("Dossiers par statut")]
    for _code, label, n in ind.par_statut:
        yield [label, n]
    yield []
    yield [_("Flux mensuels"), _("Créés"), _("Préalables"), _("Finales"), _("Envoyés"),
           _("Certifiés")]
    for m in ind.flux:
        yield [m["mois"], m["crees"], m["prealables"], m["finales"], m["envoyes"], m["certifies"]]
    yield []
    yield [_("Préalables validées du premier coup (%)"), ind.taux_premier_coup,
           ind.prealables_valides, ind.prealables_finalises]
    yield []
    yield [_("Taux d'acquisition par sous-domaine (%)"), _("Préalable"), _("Finale")]
    for a in ind.acquisition:
        yield [f"{a['code']} {a['intitule']}", a["prealable"], a["finale"]]
    yield []
    yield [_("Durées médianes (jours)"), _("Médiane"), _("Dossiers")]
    for label, mediane, n in ind.durees:
        yield [label, mediane, n]
    for titre, rows in ((_("Décisions du jury"), ind.jury), (_("Abandons par motif"),
                                                            ind.abandons),
                        (_("Habilitations par état"), ind.habilitations)):
        yield []
        yield [titre]
        for _code, label, n in rows:
            yield [label, n]


# --- Certif Pro: invoicing and the national registry ----------------------------------------

def _day_text(value: Optional[dt.date]) -> str:
    return value.strftime("%d/%m/%Y") if value else "…"


def _montant(value) -> float:
    return float(value.quantize(Decimal("0.01")))


def facturation(by: Any, f: Filtres, path: str, avancer: Progression = lambda n: None) -> int:
    """Certif Pro: the évaluations préalables finalized and the certificates delivered in the
    period — the acts the scheme bills — with their amounts at the tariff in force on each
    act's day (services/tarifs), per organisme and per établissement; the tariffs used on a
    sheet of their own."""
    _national(by)
    grille = tarifs.en_vigueur()
    actes = {  # act → (a query of (établissement, count) and the column that dates the act)
        tarifs.PREALABLE: (select(Candidature.etablissement_id, func.count())
                           .join(Evaluation, Evaluation.candidature_id == Candidature.id)
                           .where(Evaluation.type == "prealable",
                                  Evaluation.statut == "finalisee"), Evaluation.finalisee_le),
        tarifs.CERTIFICAT: (select(Candidature.etablissement_id, func.count())
                            .join(Certificat, Certificat.candidature_id == Candidature.id),
                            Certificat.created_on),
    }
    # (établissement, act) → [count, amount]: one statement per tariff span of each act
    compte: dict[tuple[int, str], list] = {}
    for acte, (query, colonne) in actes.items():
        for periode in tarifs.periodes(acte, f.debut, f.fin, grille):
            q = query.where(colonne >= dt.datetime.combine(periode.debut, dt.time.min))
            if periode.fin is not None:
                q = q.where(colonne < dt.datetime.combine(periode.fin, dt.time.min))
            for etab_id, n in db.session.execute(q.group_by(Candidature.etablissement_id)):
                cell = compte.setdefault((etab_id, acte), [0, Decimal(0)])
                cell[0] += n
                cell[1] += n * periode.montant
    etabs = db.session.execute(
        select(Etablissement.id, Etablissement.siret, Etablissement.nom, Organisme.id,
               Organisme.siren, Organisme.raison_sociale)
        .join(Organisme, Organisme.id == Etablissement.organisme_id)
        .where(Etablissement.id.in_({e for e, _a in compte}))
        .order_by(Organisme.raison_sociale, Etablissement.nom)).all()
    zero = [0, Decimal(0)]
    par_etab, par_org = [], {}
    for etab_id, siret, nom, org_id, siren, raison in etabs:
        p = compte.get((etab_id, tarifs.PREALABLE), zero)
        c = compte.get((etab_id, tarifs.CERTIFICAT), zero)
        par_etab.append([siret, nom, siren, raison, p[0], _montant(p[1]), c[0], _montant(c[1]),
                         _montant(p[1] + c[1])])
        org = par_org.setdefault(org_id, [siren, raison, 0, Decimal(0), 0, Decimal(0)])
        org[2] += p[0]
        org[3] += p[1]
        org[4] += c[0]
        org[5] += c[1]
    par_org_rows = [[siren, raison, np, _montant(mp), nc, _montant(mc), _montant(mp + mc)]
                    for siren, raison, np, mp, nc, mc in par_org.values()]
    total = [_("Total"), "", sum(r[2] for r in par_org_rows), sum(r[3] for r in par_org_rows),
             sum(r[4] for r in par_org_rows), sum(r[5] for r in par_org_rows),
             sum(r[6] for r in par_org_rows)]
    _total(avancer, len(par_etab))
    periode = f"{_('Période')} : {_day_text(f.debut)} — {_day_text(f.fin)}"
    montants = [_("Évaluations préalables"), _("Montant des préalables (€ HT)"),
                _("Certificats délivrés"), _("Montant des certificats (€ HT)"),
                _("Total (€ HT)")]
    ecrire(path, [
        Feuille(_("Facturation"), [_("SIREN"), _("Organisme")] + montants,
                par_org_rows + ([total] if par_org_rows else []), bandeau=periode),
        Feuille(_("Par établissement"), [_("SIRET"), _("Établissement"), _("SIREN"),
                                         _("Organisme")] + montants, par_etab, bandeau=periode),
        Feuille(_("Tarifs"), [_("Acte"), _("Depuis le"), _("Montant (€ HT)")],
                [[str(tarifs.ACTES[t.acte]), t.depuis, _montant(t.montant)] for t in grille]),
    ], garde=_garde(by, "facturation", f))
    return len(par_etab)


def registre(by: Any, f: Filtres, path: str, avancer: Progression = lambda n: None) -> int:
    """Certif Pro: the certified holders of the period, for the national registry deposit."""
    _national(by)
    query = _periode(select(Certificat.numero, Candidat.civilite, Candidat.nom_naissance,
                            Candidat.nom_usage, Candidat.prenoms, Candidat.date_naissance,
                            Candidat.commune_naissance, Candidat.pays_naissance,
                            Certificat.date_jury, Certificateur.nom)
                     .join(Candidature, Candidature.id == Certificat.candidature_id)
                     .join(Candidat, Candidat.id == Candidature.candidat_id)
                     .join(Certificateur, Certificateur.id == Certificat.certificateur_id)
                     .where(Candidature.statut == C.CERTIFIEE),
                     Certificat.created_on, f)
    _total(avancer, db.session.scalar(select(func.count()).select_from(query.subquery())))

    def rows():  # by batches (keyset on the number): the progress commits between them
        dernier = ""
        while True:
            batch = db.session.execute(query.where(Certificat.numero > dernier)
                                       .order_by(Certificat.numero).limit(BATCH)).all()
            for (numero, civilite, nom, usage, prenoms, naissance, commune, pays, date_jury,
                 jury) in batch:
                yield [numero, civilite, nom.upper(), usage or "", prenoms, naissance,
                       commune or pays or "", date_jury, jury]
            if len(batch) < BATCH:
                return
            dernier = batch[-1][0]

    compte, lignes = _compte(rows(), avancer)
    ecrire(path, [Feuille(_("Titulaires"), [
        _("N° de certificat"), _("Civilité"), _("Nom de naissance"), _("Nom d'usage"),
        _("Prénom(s)"), _("Date de naissance"), _("Lieu de naissance"), _("Date du jury"),
        _("Certificateur")], lignes)], garde=_garde(by, "registre", f))
    return compte.n


WRITERS: dict[str, Callable[..., int]] = {"parcours": exporter, "facturation": facturation,
                                          "registre": registre}
