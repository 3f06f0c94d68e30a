"""Bulk decisions (issue 16): Certif Pro ticks several requests (habilitations, rattachements)
and gives them one decision. One transaction, each request in a savepoint of its own: one that
cannot take the decision (already decided, outside the perimeter, a dossier that moved on)
refuses none of the others; the caller gets one report line per request."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Optional

from flask_babel import gettext as _
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.security import perimeter

from . import audit
from .errors import RuleError, ServiceError

LOT_MAX = 200  # requests decided at once


@dataclasses.dataclass
class Resultat:
    """What became of one request: its id, what it is about, decided or why not."""

    id: int
    nom: str
    decidee: bool
    message: str


def identifiants(ids: Iterable[Any]) -> list[int]:
    """The ids ticked, each once, in their order; refused when none or too many."""
    uniques = [i for i in dict.fromkeys(perimeter.bounded_id(i) for i in (ids or [])) if i]
    if not uniques:
        raise RuleError(_("Cochez au moins une demande."), field="ids")
    if len(uniques) > LOT_MAX:
        raise RuleError(_("Au plus %(n)d demandes à la fois.", n=LOT_MAX), field="ids")
    return uniques


def decider(ids: list[int], charger: Callable[[int], Optional[Any]],
            nom: Callable[[Any], str], decider_un: Callable[[Any], Any],
            message: Callable[[Any], str], by: Any, action: str) -> list[Resultat]:
    """Run `decider_un` on each request (loaded by `charger`) in a savepoint, report each
    one, record `action` in the journal and commit once."""
    rapport = []
    for pk in ids:
        demande = charger(pk)
        libelle = nom(demande) if demande is not None else ""
        try:
            if demande is None:
                raise NotFound()
            with db.session.begin_nested():
                decider_un(demande)
        except NotFound:
            rapport.append(Resultat(pk, "", False, _("Demande introuvable.")))
        except ServiceError as error:
            db.session.expire_all()
            rapport.append(Resultat(pk, libelle, False, error.message))
        else:
            rapport.append(Resultat(pk, libelle, True, message(demande)))
    audit.record(by, action, None, _("%(ok)d décidée(s) sur %(n)d",
                                     ok=sum(r.decidee for r in rapport), n=len(rapport)))
    db.session.commit()
    return rapport
