"""The notification centre (guide §5, §21): every business event calls `notify()` with the
recipients computed by an audience rule below (never hard-coded per view). Each recipient
gets an in-app notification and, unless they turned it off for that rubrique, an e-mail."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from werkzeug.exceptions import NotFound

from app.extensions import db
from app.models import (Etablissement, FabRole, Notification, Organisme, PreferenceNotification,
                        Utilisateur)
from app.security import roles as R

from app.security.request_cache import forget, per_request

from .mail import absolute_url, queue_email
from .pages import Page, paginate

CERTIFICATION = "certification"
HABILITATION = "habilitation"
RATTACHEMENT = "rattachement"
NOUVELLE_CANDIDATURE = "nouvelle_candidature"
COMPTES = "comptes"
EXPORTS = "exports"  # « Export prêt »: an export asked on the Stats tab is ready
RUBRIQUES = {
    CERTIFICATION: _l("Certification des candidatures"),
    HABILITATION: _l("Habilitation des établissements"),
    RATTACHEMENT: _l("Rattachement des candidatures"),
    NOUVELLE_CANDIDATURE: _l("Nouvelle candidature"),
    COMPTES: _l("Comptes"),
    EXPORTS: _l("Exports"),
}
PAGE_SIZE = 50


# --- audiences: who is told ---------------------------------------------------------------

def _active_with_roles(*roles: R.RoleDef):
    return (select(Utilisateur).join(Utilisateur.roles)
            .where(Utilisateur.active.is_(True), FabRole.name.in_([r.name for r in roles])))


def certif_pro() -> list[Utilisateur]:
    return list(db.session.scalars(_active_with_roles(R.CERTIF_PRO)).unique())


def gestionnaires_etablissement(etablissement: Etablissement) -> list[Utilisateur]:
    """Who manages an établissement's dossiers: its own users and its organisme's users."""
    query = (select(Utilisateur).where(
        Utilisateur.active.is_(True),
        or_(Utilisateur.etablissement_id == etablissement.id,
            Utilisateur.organisme_id == etablissement.organisme_id)))
    return list(db.session.scalars(query).unique())


def administrateurs_organisme(organisme: Organisme) -> list[Utilisateur]:
    """The organisme's administrators and the administrators/supervisors of its réseau."""
    query = _active_with_roles(R.ADMIN_ORGANISME, R.ADMIN_RESEAU, R.SUPERVISEUR_RESEAU).where(
        or_(Utilisateur.organisme_id == organisme.id,
            (Utilisateur.reseau_id == organisme.reseau_id) if organisme.reseau_id else False))
    return list(db.session.scalars(query).unique())


def reseau_abonnes_nouvelle_candidature(etablissement: Etablissement) -> list[Utilisateur]:
    """Réseau admins who chose to be told of every new candidature of their réseau."""
    reseau_id = etablissement.organisme.reseau_id
    if reseau_id is None:
        return []
    query = _active_with_roles(R.ADMIN_RESEAU, R.SUPERVISEUR_RESEAU).where(
        Utilisateur.reseau_id == reseau_id,
        Utilisateur.notifier_nouvelle_candidature.is_(True))
    return list(db.session.scalars(query).unique())


# --- sending ------------------------------------------------------------------------------

def wants_email(user: Utilisateur, rubrique: str) -> bool:
    pref = db.session.get(PreferenceNotification, (user.id, rubrique))
    return True if pref is None else pref.email


def notify(recipients: Iterable[Utilisateur], rubrique: str, titre: str, texte: str,
           lien: Optional[str] = None) -> list[Notification]:
    """Store one notification per (distinct, active) recipient and queue the e-mails.
    Adds to the session: the calling command commits with its own change."""
    if rubrique not in RUBRIQUES:
        raise ValueError(f"unknown rubrique {rubrique}")
    created, seen = [], set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        note = Notification(user_id=user.id, rubrique=rubrique, titre=str(titre)[:255],
                            texte=str(texte), lien=lien, lu=False)
        db.session.add(note)
        created.append(note)
        if wants_email(user, rubrique):
            queue_email(user.email, "notification", titre, rubrique=rubrique, user=user,
                        titre=titre, texte=texte, rubrique_label=RUBRIQUES[rubrique],
                        lien=absolute_url(lien) if lien else absolute_url("/notifications/"))
    if created:  # a count of unread read earlier in this request no longer holds
        forget("non_lues")
    return created


# --- reading and marking ----------------------------------------------------------------------

def unread_count(user: Utilisateur) -> int:
    return db.session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user.id, Notification.lu.is_(False))).scalar_one()


def latest_unread(user: Utilisateur, limit: int = 5) -> list[Notification]:
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.lu.is_(False))
        .order_by(Notification.created_on.desc(), Notification.id.desc()).limit(limit)))


def cloche(user: Utilisateur, limit: int = 5) -> tuple[int, list[Notification]]:
    """The header bell on every page, in one statement: the number of unread notifications
    and the latest `limit` of them (the count is taken over all unread rows, before the
    limit)."""
    if per_request(("non_lues", user.id), lambda: None) == 0:
        return 0, []  # none unread: the count came with the user (security.manager)
    rows = db.session.execute(
        select(Notification, func.count().over())
        .where(Notification.user_id == user.id, Notification.lu.is_(False))
        .order_by(Notification.created_on.desc(), Notification.id.desc()).limit(limit)).all()
    return (rows[0][1] if rows else 0), [row[0] for row in rows]


def search(user: Utilisateur, rubrique: Optional[str] = None, lu: Optional[bool] = None,
           page: Any = 0, clamp: bool = True) -> Page:
    """One page of the user's notifications, newest first (the page and the API)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if rubrique in RUBRIQUES:
        query = query.where(Notification.rubrique == rubrique)
    if lu is not None:
        query = query.where(Notification.lu.is_(lu))
    return paginate(query.order_by(Notification.created_on.desc(), Notification.id.desc()),
                    page, PAGE_SIZE, clamp=clamp)


def mark_read(user: Utilisateur, ids: Iterable[Any]) -> int:
    """Mark the user's own notifications as read (others' ids are ignored)."""
    clean = [int(i) for i in ids if str(i).isdigit()]
    if not clean:
        return 0
    count = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.id.in_(clean),
               Notification.lu.is_(False))
        .values(lu=True, lu_le=dt.datetime.now())).rowcount
    db.session.commit()
    return count


def marquer_traitees(rubrique: str, lien: str) -> int:
    """A request is decided: the notifications that asked for its decision are done, for
    everyone they were sent to (the caller commits; the decision's own notifications, sent
    after, stay unread)."""
    return db.session.execute(
        update(Notification).where(Notification.lien == lien, Notification.rubrique == rubrique,
                                   Notification.lu.is_(False))
        .values(lu=True, lu_le=dt.datetime.now()), execution_options={"synchronize_session": False}
    ).rowcount


def mark_all_read(user: Utilisateur) -> int:
    count = db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.lu.is_(False))
        .values(lu=True, lu_le=dt.datetime.now())).rowcount
    db.session.commit()
    return count


def open_notification(user: Utilisateur, notification_id: Any) -> str:
    """The arrow: mark read and return where to go. 404 for another user's notification."""
    note = db.session.execute(select(Notification).where(
        Notification.id == _int(notification_id), Notification.user_id == user.id)
    ).scalar_one_or_none()
    if note is None:
        raise NotFound()
    if not note.lu:
        note.lu, note.lu_le = True, dt.datetime.now()
        db.session.commit()
    return note.lien or "/notifications/"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound()


# --- preferences ------------------------------------------------------------------------------

def preferences(user: Utilisateur) -> dict[str, bool]:
    rows = db.session.scalars(select(PreferenceNotification).where(
        PreferenceNotification.user_id == user.id))
    prefs = {code: True for code in RUBRIQUES}
    prefs.update({row.rubrique: row.email for row in rows if row.rubrique in RUBRIQUES})
    return prefs


def set_preferences(user: Utilisateur, emails: dict[str, bool]) -> None:
    for code in RUBRIQUES:
        if code not in emails:
            continue
        row = db.session.get(PreferenceNotification, (user.id, code))
        if row is None:
            db.session.add(PreferenceNotification(user_id=user.id, rubrique=code,
                                                  email=bool(emails[code])))
        else:
            row.email = bool(emails[code])
    db.session.commit()


def rubrique_label(code: str) -> str:
    return str(RUBRIQUES.get(code, code))

