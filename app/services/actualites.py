"""Actualités: news written by Certif Pro, shown on everyone's home page between its dates."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Actualite
from app.security import perimeter
from app.security.access import ensure_can
from app.security.matrix import CREATE, DELETE, UPDATE

from . import audit
from .dates import parse_date
from .errors import RuleError

FIELDS = ("titre", "texte", "publie_le", "expire_le")


_date = parse_date


def validate(data: dict, current: Actualite | None = None) -> dict:
    clean = {}
    for field, label in (("titre", _("Titre")), ("texte", _("Texte"))):
        if field in data or current is None:
            value = (data.get(field) or "").strip()
            if not value:
                raise RuleError(_("Le champ « %(champ)s » est obligatoire.", champ=label),
                                field=field)
            clean[field] = value
    if "publie_le" in data or current is None:
        clean["publie_le"] = _date(data.get("publie_le"), "publie_le") or dt.date.today()
    if "expire_le" in data:
        clean["expire_le"] = _date(data.get("expire_le"), "expire_le")
    start = clean.get("publie_le", current.publie_le if current else None)
    end = clean.get("expire_le", current.expire_le if current else None)
    if start and end and end < start:
        raise RuleError(_("La date d'expiration doit suivre la date de publication."),
                        field="expire_le")
    return clean


def create(data: dict, by: Any) -> Actualite:
    ensure_can(by, "Actualite", CREATE)
    item = Actualite(**validate({k: v for k, v in data.items() if k in FIELDS}),
                     auteur_id=getattr(by, "id", None))
    db.session.add(item)
    db.session.flush()
    audit.record(by, "creer", item)
    db.session.commit()
    return item


def update(item: Actualite, data: dict, by: Any) -> Actualite:
    ensure_can(by, "Actualite", UPDATE)
    perimeter.get_or_404(Actualite, item.id, by)
    for key, value in validate({k: v for k, v in data.items() if k in FIELDS}, item).items():
        setattr(item, key, value)
    audit.record(by, "modifier", item)
    db.session.commit()
    return item


def supprimables(ids: list[int]) -> set[int]:
    """Nothing points to a news item: Certif Pro may delete any of them."""
    return set(ids)


def delete(item: Actualite, by: Any) -> None:
    ensure_can(by, "Actualite", DELETE)
    perimeter.get_or_404(Actualite, item.id, by)
    audit.record(by, "supprimer", item, item.titre)
    db.session.delete(item)
    db.session.commit()


def current(limit: int = 5) -> list[Actualite]:
    """The news in force today, newest first (home page)."""
    today = dt.date.today()
    return list(db.session.scalars(
        select(Actualite).where(Actualite.publie_le <= today,
                                (Actualite.expire_le.is_(None)) | (Actualite.expire_le >= today))
        .order_by(Actualite.publie_le.desc(), Actualite.id.desc()).limit(limit)))
