"""Documents (DESIGN §6): ≤ 4 Mo each, type checked from the content (and archives opened
with limits, polyglots refused: services/inspection.py), stored outside static/ under a
generated name, in step with their row (services/stockage.py); a refused upload stores
nothing and says why in French; an idempotency key makes a retry answer the first upload.
A dossier takes documents while it is modifiable by the user, or as the answer to a
complement request (`refus_depot`, used by every upload and by the pages to offer the upload)."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import Any, Optional

import filetype
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import candidature as C
from app.models.candidature import Candidature
from app.models.evaluation import Document

from . import audit, candidatures  # candidatures imports this module too: attribute use only
from . import inspection, stockage
from .errors import ConflictError, ForbiddenError, RuleError, ServiceError

MAX_BYTES = 4 * 1024 * 1024
# extension detected from the content → (MIME type, label)
ALLOWED = {
    "pdf": "application/pdf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
NATURES = ("matrice", "attestation", "piece")
# a file name's extension → the type its content must have (the declared type)
EXTENSIONS = {"pdf": "pdf", "jpg": "jpg", "jpeg": "jpg", "png": "png", "xlsx": "xlsx",
              "docx": "docx", "odt": "odt"}


class FileTooLarge(ServiceError):
    status = 413


def safe_name(name: str) -> str:
    """The name shown to users: no directories, no control characters, at most 200 chars."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '/\\:*?"<>|')
    return (base or "document")[:200]


def detect(content: bytes) -> Optional[str]:
    kind = filetype.guess(content)
    if kind is None:
        return None
    if kind.extension in ALLOWED:
        return kind.extension
    if kind.extension == "zip" and b"mimetypeapplication/vnd.oasis.opendocument.text" in \
            content[:200]:
        return "odt"
    return None


def storage_dir() -> Path:
    return stockage.storage_dir()


def _refus_modification(candidature: Candidature, by: Any) -> Optional[str]:
    if candidatures.modifiable(candidature, by):
        return None
    if candidature.candidat.anonymise:
        return _("Ce candidat est anonymisé : son dossier ne prend plus de documents.")
    if candidature.statut == C.ABANDONNEE:
        return _("Ce dossier est abandonné : réintégrez-le avant de modifier ses documents.")
    return _("Ce dossier a été envoyé en certification : à votre niveau, ses documents ne "
             "changent plus, sauf pour répondre à une demande de compléments du jury.")


def refus_depot(candidature: Candidature, by: Any) -> Optional[str]:
    """Why `by` cannot add a document to this dossier (None when they can): while the dossier
    is modifiable by them (DESIGN §5: nothing changes below Administrateur réseau once
    sent), or while the jury's complement request is open, as part of the answer."""
    if candidature.statut == C.ATTENTE_COMPLEMENT:
        return None
    return _refus_modification(candidature, by)


def peut_deposer(candidature: Candidature, by: Any) -> bool:
    """The upload forms of the dossier, its evaluations and formations are offered."""
    return refus_depot(candidature, by) is None


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,100}$")


def cle_idempotence(value: Optional[str]) -> Optional[str]:
    """The client's idempotency key (HTTP header `Idempotency-Key`, or the upload form's
    hidden field generated per display), None when absent; 8 to 100 letters, digits or
    « . _ : - »."""
    value = (value or "").strip()
    if not value:
        return None
    if not IDEMPOTENCY_KEY.match(value):
        raise RuleError(_("La clé d'idempotence doit compter de 8 à 100 caractères (lettres, "
                          "chiffres, « . _ : - »)."))
    return value


def _deja_depose(user_id: Optional[int], cle: Optional[str]) -> Optional[Document]:
    if not cle or user_id is None:
        return None
    return db.session.scalars(select(Document).where(Document.created_by_id == user_id,
                                                     Document.idempotency_key == cle)).first()


def _rejouer(document: Document, candidature: Candidature, content: bytes) -> Document:
    """A retry of an upload that was stored (its answer was lost): the same document, nothing
    stored again; the same key for another file or dossier is refused."""
    if document.candidature_id != candidature.id or \
            document.sha256 != hashlib.sha256(content).hexdigest():
        raise ConflictError(_("Cette clé d'idempotence a déjà servi pour un autre fichier : "
                              "envoyez ce fichier avec une nouvelle clé."), field="fichier")
    return document


def enregistrer(candidature: Candidature, nom: str, content: bytes, by: Any, nature: str = "piece",
                evaluation_id: Optional[int] = None, formation_id: Optional[int] = None,
                cle: Optional[str] = None) -> Document:
    """Check then store one file (the caller has checked the perimeter); refused once the
    dossier no longer takes documents from `by` (refus_depot, 403). The content is checked
    (type, archive limits, polyglots: services/inspection.py) before anything is written;
    the file is written under a temporary name and moved into place when the row commits
    (services/stockage.py). With an idempotency key `cle`, a second upload by the same
    user with the same key answers the first document and stores nothing."""
    cle = cle_idempotence(cle)
    user_id = getattr(by, "id", None)
    existing = _deja_depose(user_id, cle)
    if existing is not None:
        return _rejouer(existing, candidature, content)
    refus = refus_depot(candidature, by)
    if refus:
        raise ForbiddenError(refus, field="fichier")
    nom = safe_name(nom)
    if nature not in NATURES:
        raise RuleError(_("Nature de document inconnue."))
    if len(content) == 0:
        raise RuleError(_("Le fichier « %(nom)s » est vide.", nom=nom), field="fichier")
    if len(content) > MAX_BYTES:
        raise FileTooLarge(_("Le fichier « %(nom)s » dépasse la taille maximale de 4 Mo "
                             "(%(taille)s Mo).", nom=nom,
                             taille=f"{len(content) / 1024 / 1024:.1f}".replace(".", ",")),
                           field="fichier")
    extension = detect(content)
    if extension is None:
        raise RuleError(_("Le fichier « %(nom)s » n'est pas d'un type accepté : PDF, JPEG, PNG, "
                          "XLSX, DOCX ou ODT (le contenu du fichier est vérifié, pas seulement "
                          "son nom).", nom=nom), field="fichier")
    nom = _nom_du_type(nom, extension)
    inspection.verifier(content, extension, nom)
    stored = f"{uuid.uuid4().hex}.{extension}"
    document = Document(candidature_id=candidature.id, evaluation_id=evaluation_id,
                        formation_id=formation_id, nature=nature, nom_original=nom,
                        nom_stockage=stored, type_mime=ALLOWED[extension], taille=len(content),
                        sha256=hashlib.sha256(content).hexdigest(),
                        created_by_id=user_id, idempotency_key=cle if user_id else None)
    db.session.add(document)
    try:
        db.session.flush()
        audit.record(by, "deposer_document", document, nom)
        stockage.preparer(db.session, stored, content)
        db.session.commit()  # the file moves into place; a rollback removes it
    except IntegrityError:
        db.session.rollback()
        existing = _deja_depose(user_id, cle)  # the same key committed meanwhile
        if existing is not None:
            return _rejouer(existing, candidature, content)
        raise
    except BaseException:
        stockage.annuler(db.session)
        raise
    return document


def _nom_du_type(nom: str, extension: str) -> str:
    """The name's extension is the declared type: it must be the content's; a name without a
    known extension gets the content's (a download never opens as another type)."""
    declared = nom.rsplit(".", 1)[-1].lower() if "." in nom else ""
    if declared in EXTENSIONS:
        if EXTENSIONS[declared] != extension:
            raise RuleError(_("Le fichier « %(nom)s » n'a pas le contenu qu'annonce son nom (son "
                              "contenu est de type %(type)s) : il est refusé.", nom=nom,
                              type=extension.upper()), field="fichier")
        return nom
    return f"{nom[:195]}.{extension}"


def chemin(document: Document) -> Path:
    """The document's file; finishes a move a crash interrupted (services/stockage.py)."""
    return stockage.chemin(document.nom_stockage, db.session)


def supprimable(document: Document, by: Any = None) -> bool:
    """A document of a finalized evaluation is part of it and stays; once the dossier is
    sent, nothing is removed below Administrateur réseau (not even during a complement
    request: the jury has seen the file)."""
    if document.supprime_le is not None or (
            document.evaluation_id and document.evaluation
            and document.evaluation.statut != "en_cours"):
        return False
    candidature = db.session.get(Candidature, document.candidature_id)
    return _refus_modification(candidature, by) is None


def supprimer(document: Document, by: Any) -> None:
    """Deleting keeps the row (marked deleted) and writes it in the dossier's history; the
    file is erased once that is committed (kept if the transaction fails)."""
    from app.security import perimeter
    from app.security.access import ensure_can
    from app.security.matrix import UPDATE

    from .candidatures import _historique

    ensure_can(by, "Candidature", UPDATE)
    candidature = perimeter.get_or_404(Candidature, document.candidature_id, by)
    if document.supprime_le is not None:
        raise RuleError(_("Ce document est déjà supprimé."))
    refus = _refus_modification(candidature, by)
    if refus:
        raise ForbiddenError(refus)
    if not supprimable(document, by):
        raise RuleError(_("Ce document appartient à une évaluation finalisée : il ne peut plus "
                          "être supprimé."))
    document.supprime_le = dt.datetime.now()
    document.supprime_par_id = getattr(by, "id", None)
    _historique(candidature, candidature.statut, candidature.statut, by,
                _("Document supprimé : %(nom)s", nom=document.nom_original))
    audit.record(by, "supprimer_document", document, document.nom_original)
    stockage.effacer_apres_commit(db.session, [document.nom_stockage])
    db.session.commit()


def retirer_du_dossier(candidature: Candidature) -> list[Path]:
    """Delete every document row of a dossier being deleted; their files are erased once the
    deletion is committed (a rollback keeps both). Returns the files."""
    names = list(db.session.scalars(
        select(Document.nom_stockage).where(Document.candidature_id == candidature.id)))
    db.session.execute(delete(Document).where(Document.candidature_id == candidature.id))
    stockage.effacer_apres_commit(db.session, names)
    return [storage_dir() / name for name in names]


def effacer_fichiers(fichiers: list[Path]) -> None:
    """Erase files at once (the caller has committed the rows' deletion)."""
    for path in fichiers:
        path.unlink(missing_ok=True)
