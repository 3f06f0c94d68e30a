"""Certif Pro's desk (issue 16): on the home page, each work queue with how many requests wait
and since when the oldest waits, each opening its queue. Computed in one statement per kind
of queue, from the same predicates as the queues' own screens."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Optional

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Certificateur, EmailMessage, Habilitation
from app.models import candidature as C
from app.models.candidature import Candidature
from app.models.rattachement import EN_ATTENTE as RAT_EN_ATTENTE
from app.models.rattachement import Rattachement
from app.security.access import is_national

from . import habilitations


@dataclass
class File:
    """One queue of the desk: what waits, how many, since when, and where it is handled."""

    code: str
    label: str
    nombre: int
    plus_ancien: Optional[dt.datetime]
    endpoint: str  # the queue's screen, and its arguments (the template builds the link)
    args: dict = field(default_factory=dict)

    def age_jours(self, now: Optional[dt.datetime] = None) -> Optional[int]:
        if self.plus_ancien is None:
            return None
        return max(0, ((now or dt.datetime.now()) - self.plus_ancien).days)


def visible(user: Any) -> bool:
    """The desk is Certif Pro's (and the technical administrator's)."""
    return user is not None and is_national(user)


def files(user: Any) -> list[File]:
    """The desk's queues, in the order of the day's work. Empty for anyone else."""
    if not visible(user):
        return []
    # the three request queues in one statement: each count and its oldest date
    compteurs = [
        select(func.count(), func.min(Habilitation.demande_le)).where(
            *habilitations.a_decider_clauses(user)),
        select(func.count(), func.min(Rattachement.demande_le)).where(
            Rattachement.statut == RAT_EN_ATTENTE),
        select(func.count(), func.min(EmailMessage.created_on)).where(
            EmailMessage.statut == "echec"),
    ]
    valeurs = db.session.execute(select(*(
        query.with_only_columns(column).scalar_subquery()
        for query in compteurs for column in query.selected_columns))).one()
    habs, rats, mails = valeurs[0:2], valeurs[2:4], valeurs[4:6]
    out = [
        File("habilitations", _("Demandes d'habilitation à décider"), habs[0], habs[1],
             "HabilitationsADeciderView.liste"),
        File("rattachements", _("Demandes de rattachement à décider"), rats[0], rats[1],
             "RattachementsView.liste"),
    ]
    # dossiers sent to a jury that no open session has taken yet, per jury
    attente = db.session.execute(
        select(Certificateur.id, Certificateur.nom, func.count(Candidature.id),
               func.min(Candidature.envoye_le))
        .join(Candidature, Candidature.certificateur_id == Certificateur.id)
        .where(Candidature.statut == C.ATTENTE_JURY, Candidature.session_jury_id.is_(None))
        .group_by(Certificateur.id, Certificateur.nom).order_by(Certificateur.nom)).all()
    for jury_id, nom, nombre, ancien in attente:
        out.append(File(f"jury-{jury_id}",
                        _("Dossiers en attente d'une session — %(jury)s", jury=nom),
                        nombre, ancien,
                        "DossiersView.liste", {"statut": C.ATTENTE_JURY, "jury": jury_id}))
    if not attente:
        out.append(File("jury", _("Dossiers en attente d'une session de jury"), 0, None,
                        "SessionsJuryView.liste"))
    out.append(File("emails", _("E-mails en échec"), mails[0], mails[1],
                    "EmailEnvoyeView.list", {"_flt_0_statut": "echec"}))
    return out
