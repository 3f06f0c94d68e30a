"""Audit trail writer. Adds to the session; the calling command commits."""
from __future__ import annotations

from typing import Any, Optional

from app.extensions import db
from app.models import AuditLog


def record(by: Any, action: str, obj: Any = None, detail: Optional[str] = None) -> None:
    db.session.add(
        AuditLog(
            user_id=getattr(by, "id", None),
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=getattr(obj, "id", None),
            detail=detail,
        )
    )


def desidentifier(candidat: Any, par: Any, motif: str) -> int:
    """De-identify the journal for an anonymised person (services/rgpd.anonymiser calls it
    before the person's fields are replaced, in the same transaction): the rows about them
    (the person, their dossiers and what those own) and every row naming them get their
    former names, contacts and birth date replaced by « [anonymisé] »; then one
    « anonymisation » row records who did it and why. Returns the number of rows changed."""
    from sqlalchemy import and_, or_, select

    from app.models import (Candidature, Certificat, DecisionJury, Document, Evaluation,
                            Formation, Rattachement)

    from .rgpd import MASQUE, masquer, traces

    termes = traces(candidat)
    dossiers = select(Candidature.id).where(Candidature.candidat_id == candidat.id)
    objets = {
        "Candidature": dossiers,
        "Document": select(Document.id).where(Document.candidature_id.in_(dossiers)),
        "Evaluation": select(Evaluation.id).where(Evaluation.candidature_id.in_(dossiers)),
        "Formation": select(Formation.id).where(Formation.candidature_id.in_(dossiers)),
        "Certificat": select(Certificat.id).where(Certificat.candidature_id.in_(dossiers)),
        "DecisionJury": select(DecisionJury.id).where(DecisionJury.candidature_id.in_(dossiers)),
        "Rattachement": select(Rattachement.id).where(Rattachement.candidature_id.in_(dossiers)),
    }
    about = [and_(AuditLog.object_type == name, AuditLog.object_id.in_(ids))
             for name, ids in objets.items()]
    about.append(and_(AuditLog.object_type == "Candidat", AuditLog.object_id == candidat.id))
    noms = {candidat.nom_complet, candidat.nom_naissance, candidat.nom_usage, candidat.email}
    naming = [AuditLog.detail.contains(t) for t in noms if t and len(t) >= 3]
    changed = 0
    for row in db.session.scalars(select(AuditLog).where(
            AuditLog.detail.is_not(None), or_(*about, *naming))):
        detail = masquer(row.detail, termes)
        if row.object_type == "Document":  # a file name may spell the name in any form
            detail = MASQUE
        if detail != row.detail:
            row.detail = detail
            changed += 1
    record(par, "anonymisation", candidat, masquer(motif, termes))
    return changed
