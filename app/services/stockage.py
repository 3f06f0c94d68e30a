"""Files on disk follow their database rows: no file without a row, no row without a file,
whatever crashes and wherever (DESIGN §4).

Writing. `preparer(name, content)` writes the content under a temporary name
(`.tmp-<name>`) in UPLOAD_DIR — flushed and fsynced — and records it on the session; the
caller adds the row that names `name` and commits. Once the transaction has committed
(SQLAlchemy's `after_commit`), the temporary file is moved into place with `os.replace`
(atomic on one filesystem). When the outermost transaction ends without a commit (rollback,
session closed), a temporary file still pending is removed.

Erasing. `effacer_apres_commit(names)` records files to erase once the transaction commits
(a dossier deleted, a document removed, a replaced signed certificate); a rollback forgets
them: the rows are still there, so are their files.

What a crash leaves, at each point, and who finishes it:
1. while the temporary file is written, or after, before the commit: no row (it never
   committed) and a temporary file → the sweep (`balayer`, job « balayer_fichiers »)
   removes a temporary file that no row names once it is older than ORPHAN_AGE (an upload in
   flight writes its temporary file just before its commit, so it is never that old).
2. after the commit, before the move: the row names `name`, the disk holds `.tmp-<name>`.
   The row is the truth — the upload succeeded — so the move is finished, deterministically:
   by the read path (`chemin`, used by every download) and by the sweep, for every
   temporary file a row names, whatever its age.
3. after the move: consistent.
4. a deletion committed, before the files are erased: files that no row names (or whose
   document row is marked deleted) → the sweep erases them (no row: once older than
   ORPHAN_AGE; a deleted document's file: at once).
The sweep never deletes a row: a row whose file is missing (neither the file nor its
temporary one) is logged and counted (`lignes_sans_fichier`) for an administrator to look
at."""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from pathlib import Path
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"
# the generated names (documents: <hex>.<ext>; certificates and procès-verbaux:
# <prefix>-<hex>.pdf); any other file in UPLOAD_DIR is never touched by the sweep
GENERATED = re.compile(r"^(?:[a-z]+-)?[0-9a-f]{32}\.[a-z0-9]{2,5}$")
PENDING = "clea_fichiers_a_deplacer"   # session.info: [(temporary path, final path)]
TO_ERASE = "clea_fichiers_a_effacer"   # session.info: [final path]


def storage_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def temporaire(path: Path) -> Path:
    return path.with_name(TEMP_PREFIX + path.name)


def preparer(session: Session, name: str, content: bytes) -> Path:
    """Write `content` under the temporary name of `name`; it becomes `name` when the
    session's transaction commits and disappears if it does not. Returns the final path."""
    final = storage_dir() / name
    temp = temporaire(final)
    with open(temp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    session.info.setdefault(PENDING, []).append((temp, final))
    return final


def adopter(session: Session, name: str) -> Path:
    """A file that a writer needing a path (the exports) has already written — flushed and
    fsynced — under the temporary name of `name`: like `preparer`'s, it becomes `name` when
    the session's transaction commits and disappears if it does not. Returns the final path."""
    final = storage_dir() / name
    session.info.setdefault(PENDING, []).append((temporaire(final), final))
    return final


def effacer_apres_commit(session: Session, names: Iterable[str]) -> None:
    directory = storage_dir()
    session.info.setdefault(TO_ERASE, []).extend(directory / name for name in names if name)


def _en_attente(session: Optional[Session], final: Path) -> bool:
    return session is not None and any(f == final for _t, f in session.info.get(PENDING, ()))


def chemin(name: str, session: Optional[Session] = None) -> Path:
    """The path of a stored file named by a committed row. When the process died between
    the row's commit and the move (point 2 above), the move is finished here."""
    final = storage_dir() / name
    if not final.exists() and not _en_attente(session, final):
        _terminer(temporaire(final), final)
    return final


def _terminer(temp: Path, final: Path) -> bool:
    try:
        os.replace(temp, final)
    except FileNotFoundError:  # already moved by another process, or never written
        return False
    _sync_dir(final.parent)
    return True


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def annuler(session: Session) -> None:
    """Roll back after a failure; when the failure came after the commit (the process was
    being stopped while moving files), there is nothing to undo: the session is closed."""
    try:
        session.rollback()
    except InvalidRequestError:
        session.close()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """The rows are committed: move their files into place, erase the deleted ones. A file
    that cannot be moved now (disk error) is left to the read path and the sweep."""
    if session.in_nested_transaction():  # a savepoint released: the outer one decides
        return
    for temp, final in session.info.pop(PENDING, ()):
        try:
            if not _terminer(temp, final):
                log.error("Fichier déposé introuvable après validation : %s", temp)
        except OSError:
            log.exception("Fichier non déplacé après validation : %s", temp)
    for path in session.info.pop(TO_ERASE, ()):
        try:
            path.unlink(missing_ok=True)
            temporaire(path).unlink(missing_ok=True)
        except OSError:
            log.exception("Fichier non effacé après validation : %s", path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    """The outermost transaction ended: after a commit, the lists are already empty; after a
    rollback (or a session closed without commit) the pending files go, the erasures are
    forgotten."""
    if transaction.parent is not None or transaction.nested:
        return
    for temp, _final in session.info.pop(PENDING, ()):
        temp.unlink(missing_ok=True)
    session.info.pop(TO_ERASE, None)


# --- the sweep -------------------------------------------------------------------------

def _noms_references(session: Session) -> tuple[set[str], set[str]]:
    """(names the rows keep, names of documents marked deleted)."""
    from app.models.evaluation import Document
    from app.models.export import ExportJob
    from app.models.jury import Certificat, SessionJury

    gardes: set[str] = set()
    supprimes: set[str] = set()
    for name, supprime_le in session.execute(select(Document.nom_stockage,
                                                    Document.supprime_le)):
        (supprimes if supprime_le is not None else gardes).add(name)
    for column in (Certificat.fichier_signe, SessionJury.proces_verbal, ExportJob.fichier):
        gardes.update(n for n in session.scalars(select(column).where(column.is_not(None))))
    return gardes, supprimes


def orphan_age() -> dt.timedelta:
    return dt.timedelta(seconds=int(current_app.config.get("CLEA_ORPHAN_AGE_SECONDS", 3600)))


def balayer(session: Session, now: Optional[float] = None) -> dict[str, int]:
    """Job « balayer_fichiers »: finish the moves a crash interrupted, erase the files no row
    keeps (older than ORPHAN_AGE, or whose document is marked deleted), report the rows whose
    file is missing. The directory is listed BEFORE the rows are read: a file moved into
    place has its row committed already, so it is seen with it."""
    directory = storage_dir()
    now = time.time() if now is None else now
    limit = orphan_age().total_seconds()
    entries = {}
    for entry in os.scandir(directory):
        if entry.is_file(follow_symlinks=False):
            entries[entry.name] = entry.stat(follow_symlinks=False).st_mtime
    gardes, supprimes = _noms_references(session)
    session.rollback()  # end the read transaction (nothing written)
    result = {"deplacements_termines": 0, "orphelins_effaces": 0, "temporaires_effaces": 0,
              "lignes_sans_fichier": 0}
    for name, mtime in sorted(entries.items()):
        temp = name.startswith(TEMP_PREFIX)
        final_name = name[len(TEMP_PREFIX):] if temp else name
        if not GENERATED.match(final_name):
            continue
        old = now - mtime > limit
        if temp:
            if final_name in gardes:
                if final_name in entries:  # both: the move had happened; the temp is stale
                    (directory / name).unlink(missing_ok=True)
                    result["temporaires_effaces"] += 1
                elif _terminer(directory / name, directory / final_name):
                    result["deplacements_termines"] += 1
                    entries[final_name] = mtime
            elif final_name in supprimes or old:
                (directory / name).unlink(missing_ok=True)
                result["temporaires_effaces"] += 1
        elif final_name not in gardes and (final_name in supprimes or old):
            (directory / name).unlink(missing_ok=True)
            result["orphelins_effaces"] += 1
    manquants = sorted(n for n in gardes if n not in entries)
    if manquants:
        log.warning("%d ligne(s) désignent un fichier absent du stockage : %s",
                    len(manquants), ", ".join(manquants[:50]))
    result["lignes_sans_fichier"] = len(manquants)
    return result
