"""Server-side sessions (DESIGN §11): a login opens a row of user_session, every request
checks it, a logout ends it; a password change or « Se déconnecter de tous les appareils »
ends every row of the user and raises the user's session generation, which every API token
carries. The rows live in the shared database, so every app server sees the same state.

With CLEA_REDIS_URL set (services/partage.py), each request checks the live session in Redis
instead of reading its row: an ending deletes the Redis entry at once (every app server
refuses the cookie from the next request) and ends the row, which « Mes connexions » and the
journal read. The row's last activity is still written at most once a minute. Each API
request reads the user's session generation from Redis too (partage.generation); without
Redis, from the database, and a browser's check reads the row with its user in one statement.

`ouvrir_session(user)` is THE step « password accepted → session open »: a later step of the
login (two-factor code) calls it once the user is fully authenticated."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, Callable, NamedTuple, Optional

from flask import current_app, has_request_context, request, session
from flask_login import login_user
from sqlalchemy import select, update

from app.extensions import db
from app.models import UserSession, Utilisateur

from . import audit, partage

SESSION_KEY = "clea_sid"
# last_seen is written at most once per this interval (one UPDATE a minute, not per request)
LAST_SEEN_EVERY = dt.timedelta(minutes=1)
# Why a session ended (user_session.end_reason)
DECONNEXION = "deconnexion"
MOT_DE_PASSE = "mot_de_passe"
TOUS_LES_APPAREILS = "tous_les_appareils"
INACTIVITE = "inactivite"
DUREE_MAXIMALE = "duree_maximale"
SUSPENSION = "suspension"


def _now() -> dt.datetime:
    return dt.datetime.now()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current_hash() -> Optional[str]:
    if not has_request_context():
        return None
    token = session.get(SESSION_KEY)
    return _hash(token) if isinstance(token, str) and token else None


def _idle() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["CLEA_SESSION_IDLE_MINUTES"])


def _max_age() -> dt.timedelta:
    return dt.timedelta(hours=current_app.config["CLEA_SESSION_MAX_HOURS"])


# --- opening -----------------------------------------------------------------------------

def ouvrir_session(user: Utilisateur) -> UserSession:
    """The password (and any further step) is accepted: open a session on this browser."""
    token = secrets.token_urlsafe(32)
    now = _now()
    row = UserSession(token_hash=_hash(token), user_id=user.id, created_on=now, last_seen=now,
                      ip=(request.remote_addr or "")[:45] or None,
                      user_agent=(request.user_agent.string or "")[:255] or None)
    db.session.add(row)
    audit.record(user, "connexion", user)
    db.session.commit()
    if partage.actif():
        partage.session_ouvrir(row.token_hash, user.id, row.id, now, _max_age() + _idle())
    session[SESSION_KEY] = token
    login_user(user, remember=False)
    return row


# --- checking (every request) ------------------------------------------------------------

def _forget() -> None:
    for key in (SESSION_KEY, "_user_id", "_fresh", "_id"):
        session.pop(key, None)


def expiration(row_created: dt.datetime, row_last_seen: dt.datetime,
               now: Optional[dt.datetime] = None) -> Optional[str]:
    """Why a session is over by the clock (idle or absolute timeout), else None."""
    now = now or _now()
    if now - row_last_seen > _idle():
        return INACTIVITE
    if now - row_created > _max_age():
        return DUREE_MAXIMALE
    return None


class _Ouverte(NamedTuple):
    """What the check needs of an open session, from Redis or from its row."""
    id: int
    user_id: int
    created_on: dt.datetime
    last_seen: dt.datetime


def _ouverte(digest: str) -> Optional[_Ouverte]:
    """The open session of this digest: one Redis read (shared store), else its row (read
    fresh on every request, so that a session ended by another app server is seen at
    once)."""
    if partage.actif():
        live = partage.session_lire(digest)
        return None if live is None else _Ouverte(live["row"], live["uid"], live["debut"],
                                                  live["vu"])
    row = db.session.execute(
        select(UserSession.id, UserSession.user_id, UserSession.created_on,
               UserSession.last_seen, UserSession.ended_on)
        .where(UserSession.token_hash == digest)).first()
    if row is None or row.ended_on is not None:
        return None
    return _Ouverte(row.id, row.user_id, row.created_on, row.last_seen)


def utilisateur_de_session(user_id: Any, charger: Optional[Callable[[int], Any]] = None
                            ) -> Optional[Utilisateur]:
    """Flask-Login's user loader: the user only while this browser's session is open and
    within the idle and absolute timeouts. Reads the session in Redis (shared store) or its
    row (database store), then the user by `charger`, which the security manager gives so
    that the user comes with their roles and their bell's count in one statement."""
    digest = _current_hash()
    if digest is None:
        _forget()
        return None
    row = _ouverte(digest)
    try:
        same_user = row is not None and row.user_id == int(user_id)
    except (TypeError, ValueError):
        same_user = False
    if not same_user:
        _forget()
        return None
    now = _now()
    reason = expiration(row.created_on, row.last_seen, now)
    if reason is not None:
        if partage.actif():
            partage.sessions_fermer([digest])
        _end(UserSession.id == row.id, reason)
        audit.record(None, "fin_session", db.session.get(Utilisateur, row.user_id),
                     reason)
        db.session.commit()
        _forget()
        return None
    if now - row.last_seen >= LAST_SEEN_EVERY:
        if partage.actif():
            partage.session_vue(digest, now)
        db.session.execute(update(UserSession).where(UserSession.id == row.id,
                                                     UserSession.ended_on.is_(None))
                           .values(last_seen=now))
        db.session.commit()
    user = (charger or (lambda uid: db.session.get(Utilisateur, uid)))(row.user_id)
    if user is None or not user.is_active:
        _forget()
        return None
    return user


# --- ending --------------------------------------------------------------------------------

def _end(where, reason: str) -> list[str]:
    """End the open sessions matching `where` (their rows; and in Redis, at once, every app
    server refusing them from the next request). Returns their digests."""
    digests = db.session.execute(
        update(UserSession).where(where, UserSession.ended_on.is_(None))
        .values(ended_on=_now(), end_reason=reason)
        .returning(UserSession.token_hash)).scalars().all()
    if partage.actif():
        partage.sessions_fermer(digests)
    return digests


def terminer_session_courante(user: Any) -> None:
    """Logout: this browser's session ends on every app server."""
    digest = _current_hash()
    if digest is not None and partage.actif():
        partage.sessions_fermer([digest])
    if digest is not None and _end(UserSession.token_hash == digest, DECONNEXION):
        audit.record(user, "deconnexion", user if isinstance(user, Utilisateur) else None)
        db.session.commit()
    _forget()


def terminer_toutes(user: Utilisateur, reason: str, by: Any = None,
                    sauf_courante: bool = False) -> int:
    """End every session of `user` (but this browser's when `sauf_courante`) and refuse the
    API tokens issued so far. Adds to the transaction; the caller commits. In Redis (shared
    store) the sessions end at once, before the commit: a failed change errs on the safe
    side (logged out, and « Mes connexions » no longer lists them)."""
    where = UserSession.user_id == user.id
    digest = _current_hash() if sauf_courante else None
    if digest is not None:
        where = where & (UserSession.token_hash != digest)
    count = len(_end(where, reason))
    raised = db.session.execute(update(Utilisateur).where(Utilisateur.id == user.id).values(
        session_generation=Utilisateur.session_generation + 1)
        .returning(Utilisateur.session_generation)).scalar_one()
    partage.generation_changee(user.id, raised)  # Redis follows at the commit
    audit.record(by, "fin_sessions", user, f"{reason} ({count})")
    return count


def deconnecter_partout(user: Utilisateur) -> int:
    """« Se déconnecter de tous les appareils »: this browser included."""
    count = terminer_toutes(user, TOUS_LES_APPAREILS, by=user)
    db.session.commit()
    _forget()
    return count


def ouvertes(user: Utilisateur) -> list[dict]:
    """The user's open sessions (newest activity first), for the profile."""
    digest = _current_hash()
    now = _now()
    rows = db.session.execute(
        select(UserSession).where(UserSession.user_id == user.id,
                                  UserSession.ended_on.is_(None))
        .order_by(UserSession.last_seen.desc())).scalars().all()
    # With Redis, a session it no longer holds (ended before a failed commit, store emptied)
    # is not open: the check would refuse its cookie.
    live = partage.sessions_vivantes(row.token_hash for row in rows) if partage.actif() \
        else None
    return [{"appareil": appareil(row.user_agent), "navigateur": row.user_agent or "", "ip": row.ip or "", "debut": row.created_on,
             "derniere_activite": row.last_seen, "courante": row.token_hash == digest}
            for row in rows if expiration(row.created_on, row.last_seen, now) is None
            and (live is None or row.token_hash in live)]


# --- API tokens ------------------------------------------------------------------------------

def _generation_en_base(pk: int) -> Optional[int]:
    return db.session.execute(select(Utilisateur.session_generation)
                              .where(Utilisateur.id == pk)).scalar_one_or_none()


def generation(user_id: Any, source: bool = False) -> Optional[int]:
    """The user's session generation (None: no such user). The database is its source
    (`source`, and without the shared store); with Redis, every API request reads Redis
    (partage.generation), the database only when Redis does not hold it."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    if source:
        return _generation_en_base(pk)
    return partage.generation(pk, _generation_en_base)


def jeton_claims(identity: Any) -> dict:
    """flask_jwt_extended additional_claims_loader: the generation the token is valid for,
    read at its source when the token is issued."""
    return {"gen": generation(identity, source=True) or 0}


def jeton_revoque(_header: dict, payload: dict) -> bool:
    """flask_jwt_extended token_in_blocklist_loader: a token issued before a password change
    or « tous les appareils » is refused."""
    current = generation(payload.get("sub"))
    return current is None or payload.get("gen", 0) != current


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def appareil(user_agent: Optional[str]) -> str:
    """« Chrome · Linux » from a browser's user agent (the whole string is shown on hover)."""
    agent = user_agent or ""
    browser = next((name for key, name in _BROWSERS if key in agent), "")
    system = next((name for key, name in _SYSTEMS if key in agent), "")
    return " · ".join(part for part in (browser, system) if part)
