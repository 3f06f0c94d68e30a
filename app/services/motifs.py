"""Standard motives (« Motifs types »): Certif Pro keeps the wordings offered when a
habilitation is rejected, a rattachement refused or a dossier not certified. A decision form
offers the active ones of its context; the chosen wording fills the motive, which the user may
still adapt (the typed text is what is recorded)."""
from __future__ import annotations

from typing import Any, Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import MotifType
from app.security import perimeter
from app.security.access import ensure_can
from app.security.matrix import CREATE, DELETE, UPDATE

from . import audit
from .errors import RuleError

HABILITATION = "habilitation"
RATTACHEMENT = "rattachement"
JURY = "jury"
CONTEXTES = {
    HABILITATION: _l("Rejet d'une demande d'habilitation"),
    RATTACHEMENT: _l("Refus d'une demande de rattachement"),
    JURY: _l("Décision du jury (non-certification, compléments)"),
}
FIELDS = ("contexte", "libelle", "texte", "ordre", "actif")


def contexte_label(code: Any) -> str:
    return str(CONTEXTES.get(code, code or ""))


def proposes(contexte: str) -> list[MotifType]:
    """The active motives of a context, in their order."""
    return list(db.session.scalars(select(MotifType).where(
        MotifType.contexte == contexte, MotifType.actif.is_(True))
        .order_by(MotifType.ordre, MotifType.libelle)))


def texte(contexte: str, motif_id: Any, libre: Any) -> str:
    """The motive recorded: the typed text when there is one, else the chosen standard
    motive's wording (a form without script sends only the choice)."""
    libre = (libre if isinstance(libre, str) else "").strip()
    if libre:
        return libre
    if motif_id in (None, ""):
        return ""
    motif = db.session.get(MotifType, perimeter.bounded_id(motif_id) or 0)
    if motif is None or motif.contexte != contexte or not motif.actif:
        raise RuleError(_("Choisissez un motif type de la liste."), field="motif_type")
    return motif.texte


def validate(data: dict, current: Optional[MotifType] = None) -> dict:
    clean: dict[str, Any] = {}
    if "contexte" in data or current is None:
        if data.get("contexte") not in CONTEXTES:
            raise RuleError(_("Choisissez où le motif est proposé."), field="contexte")
        clean["contexte"] = data["contexte"]
    for field, label, longueur in (("libelle", _("Libellé"), 120), ("texte", _("Texte"), 2000)):
        if field in data or current is None:
            value = (data.get(field) if isinstance(data.get(field), str) else "").strip()
            if not value:
                raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label),
                                field=field)
            if len(value) > longueur:
                raise RuleError(_("%(champ)s : %(n)d caractères au plus.", champ=label,
                                  n=longueur), field=field)
            clean[field] = value
    if "ordre" in data:
        try:
            clean["ordre"] = int(data.get("ordre") or 0)
        except (TypeError, ValueError):
            raise RuleError(_("L'ordre est un nombre entier."), field="ordre") from None
        if not -1000 <= clean["ordre"] <= 1000:
            raise RuleError(_("L'ordre est compris entre -1000 et 1000."), field="ordre")
    if "actif" in data:
        clean["actif"] = bool(data.get("actif"))
    return clean


def create(data: dict, by: Any) -> MotifType:
    ensure_can(by, "MotifType", CREATE)
    values = validate({k: v for k, v in data.items() if k in FIELDS})
    values.setdefault("actif", True)
    values.setdefault("ordre", 0)
    motif = MotifType(**values)
    db.session.add(motif)
    db.session.flush()
    audit.record(by, "creer", motif)
    db.session.commit()
    return motif


def update(motif: MotifType, data: dict, by: Any) -> MotifType:
    ensure_can(by, "MotifType", UPDATE)
    perimeter.get_or_404(MotifType, motif.id, by)
    for key, value in validate({k: v for k, v in data.items() if k in FIELDS}, motif).items():
        setattr(motif, key, value)
    audit.record(by, "modifier", motif)
    db.session.commit()
    return motif


def supprimables(ids: list[int]) -> set[int]:
    """A motive's text is copied into each decision: any of them may be deleted."""
    return set(ids)


def delete(motif: MotifType, by: Any) -> None:
    ensure_can(by, "MotifType", DELETE)
    perimeter.get_or_404(MotifType, motif.id, by)
    audit.record(by, "supprimer", motif, motif.libelle)
    db.session.delete(motif)
    db.session.commit()
