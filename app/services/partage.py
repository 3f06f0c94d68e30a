"""The state every app server shares besides the data (DESIGN §12): attempt counters (login
delay, « Mot de passe oublié » limits) and the live browser sessions.

With CLEA_REDIS_URL set, it lives in Redis: one round trip, no SQL statement, the same for
every worker of every app server. Without it (`make run`, SQLite, most tests) the database is
the store: table attempt_counter for the counters, user_session read on each request for the
sessions. The choice is made here only (`actif()`); services/tentatives.py and
services/sessions.py say what they count and check, not where.

Keys (all under `clea:`):
- `clea:n:<key>`: an attempt counter; expires `window` after its first (fixed window) or last
  (sliding window) attempt.
- `clea:bloque:<key>`: present while a login delay runs; expires with it.
- `clea:session:<digest>`: a live session (hash: uid, row, debut, vu). A logout, a password
  change, a suspension delete it; it expires on its own after the absolute timeout.
- `clea:gen:<user id>`: a copy of the user's session generation (ab_user.session_generation,
  which every API token carries), read on each API request instead of the database. The
  database stays its source: a miss reads it there and stores it (only if no newer value
  was stored meanwhile); a password change, a suspension, « tous les appareils » raise it in
  the database and, at the commit, here (never lowering it); it expires after GENERATION_TTL.
- `clea:reveil:<queue>`: a wake-up (a list of at most one item): a queued export wakes the
  process waiting for that queue (`attendre_reveil`), which starts it at once rather than at
  its next look. Without Redis the worker looks every interval.
PostgreSQL keeps the user_session rows (« Mes connexions », the end reasons, the journal)."""
from __future__ import annotations

import datetime as dt
import math
from typing import Callable, Iterable, Optional

from flask import current_app
from sqlalchemy import delete, event, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AttemptCounter

PREFIX = "clea:"
_CLIENT = "clea_redis"


def _now() -> dt.datetime:
    return dt.datetime.now()


def actif() -> bool:
    """True when the shared store is Redis (CLEA_REDIS_URL set)."""
    return bool(current_app.config.get("CLEA_REDIS_URL"))


def client():
    """The application's Redis client (one connection pool per process: redis-py opens new
    connections in a forked worker)."""
    redis_client = current_app.extensions.get(_CLIENT)
    if redis_client is None:
        import redis

        redis_client = redis.Redis.from_url(
            current_app.config["CLEA_REDIS_URL"], decode_responses=True,
            socket_timeout=5, socket_connect_timeout=5, health_check_interval=30)
        current_app.extensions[_CLIENT] = redis_client
    return redis_client


def apres_fork(app) -> None:
    """A forked worker drops the connections it inherited (gunicorn's post_fork)."""
    for name in (_CLIENT, _CLIENT + "_attente"):
        redis_client = app.extensions.pop(name, None)
        if redis_client is not None:
            redis_client.connection_pool.reset()


def _seconds(delta: dt.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


# --- attempt counters ------------------------------------------------------------------------

def compter(key: str, window: dt.timedelta, sliding: bool = False) -> int:
    """Count one attempt under `key` and return the count in the current window. A fixed
    window starts at the first attempt; a sliding one (`sliding`) lasts while attempts keep
    coming less than `window` apart. Atomic on every app server: INCR + EXPIRE in one Redis
    transaction, or one UPDATE (an INSERT that falls back to the UPDATE when another server
    created the row first) in the caller's database transaction."""
    if actif():
        name = PREFIX + "n:" + key
        pipe = client().pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, _seconds(window), nx=not sliding)
        return int(pipe.execute()[0])
    now = _now()
    since = AttemptCounter.last_at if sliding else AttemptCounter.first_at
    expired = db.session.execute(
        update(AttemptCounter).where(AttemptCounter.key == key, since < now - window)
        .values(count=1, first_at=now, last_at=now, blocked_until=None)).rowcount
    if not expired:
        bumped = db.session.execute(
            update(AttemptCounter).where(AttemptCounter.key == key)
            .values(count=AttemptCounter.count + 1, last_at=now)).rowcount
        if not bumped:
            try:
                with db.session.begin_nested():
                    db.session.add(AttemptCounter(key=key, count=1, first_at=now, last_at=now))
            except IntegrityError:
                db.session.execute(
                    update(AttemptCounter).where(AttemptCounter.key == key)
                    .values(count=AttemptCounter.count + 1, last_at=now))
    return db.session.execute(
        select(AttemptCounter.count).where(AttemptCounter.key == key)).scalar_one()


def bloquer(key: str, seconds: int) -> None:
    """Start a delay of `seconds` under the counter `key`."""
    if actif():
        client().set(PREFIX + "bloque:" + key, "1", ex=max(1, int(seconds)))
        return
    db.session.execute(update(AttemptCounter).where(AttemptCounter.key == key)
                       .values(blocked_until=_now() + dt.timedelta(seconds=seconds)))


def attente(keys: Iterable[str]) -> int:
    """Seconds before the longest delay running under `keys` ends (0: none runs)."""
    keys = list(keys)
    if actif():
        pipe = client().pipeline(transaction=False)
        for key in keys:
            pipe.pttl(PREFIX + "bloque:" + key)
        remaining = [ms for ms in pipe.execute() if ms and ms > 0]
        return max(1, math.ceil(max(remaining) / 1000)) if remaining else 0
    now = _now()
    until = db.session.execute(
        select(AttemptCounter.blocked_until)
        .where(AttemptCounter.key.in_(keys), AttemptCounter.blocked_until > now)).scalars().all()
    if not until:
        return 0
    return max(1, math.ceil((max(until) - now).total_seconds()))


def oublier(key: str) -> None:
    """Forget the counter `key` (and its delay)."""
    if actif():
        client().delete(PREFIX + "n:" + key, PREFIX + "bloque:" + key)
        return
    db.session.execute(delete(AttemptCounter).where(AttemptCounter.key == key))


def nettoyer(older_than: dt.timedelta) -> None:
    """Forget the counters nobody has touched for `older_than` (no row per address kept
    forever). Redis forgets by itself (every key has its expiry)."""
    if actif():
        return
    now = _now()
    db.session.execute(delete(AttemptCounter).where(
        AttemptCounter.last_at < now - older_than,
        or_(AttemptCounter.blocked_until.is_(None), AttemptCounter.blocked_until < now)))


# --- live sessions (Redis only: without it, the user_session row is read) ---------------------

def _session_key(digest: str) -> str:
    return PREFIX + "session:" + digest


def session_ouvrir(digest: str, user_id: int, row_id: int, debut: dt.datetime,
                   ttl: dt.timedelta) -> None:
    name = _session_key(digest)
    pipe = client().pipeline(transaction=True)
    pipe.hset(name, mapping={"uid": user_id, "row": row_id, "debut": debut.isoformat(),
                             "vu": debut.isoformat()})
    pipe.expire(name, _seconds(ttl))
    pipe.execute()


def session_lire(digest: str) -> Optional[dict]:
    """{"uid", "row", "debut", "vu"} of a live session, else None (ended, expired, unknown)."""
    data = client().hgetall(_session_key(digest))
    if not data:
        return None
    try:
        return {"uid": int(data["uid"]), "row": int(data["row"]),
                "debut": dt.datetime.fromisoformat(data["debut"]),
                "vu": dt.datetime.fromisoformat(data["vu"])}
    except (KeyError, ValueError):
        return None


def session_vue(digest: str, vu: dt.datetime) -> None:
    """Last activity of a live session (written at most once a minute, like the row's)."""
    name = _session_key(digest)
    # HSET only if the session is still live: a logout on another server wins.
    client().eval("if redis.call('EXISTS', KEYS[1]) == 1 then "
                  "redis.call('HSET', KEYS[1], 'vu', ARGV[1]) end return 0",
                  1, name, vu.isoformat())


def sessions_fermer(digests: Iterable[str]) -> None:
    """These sessions end on every app server, at once."""
    names = [_session_key(digest) for digest in digests]
    if names:
        client().delete(*names)


def sessions_vivantes(digests: Iterable[str]) -> set[str]:
    """The digests among `digests` whose session is live."""
    digests = list(digests)
    if not digests:
        return set()
    pipe = client().pipeline(transaction=False)
    for digest in digests:
        pipe.exists(_session_key(digest))
    return {digest for digest, live in zip(digests, pipe.execute()) if live}


# --- wake-ups of the background workers ------------------------------------------------------

def _reveil_key(queue: str) -> str:
    return PREFIX + "reveil:" + queue


def reveiller(queue: str) -> None:
    """Wake the worker waiting on `queue` (several wake-ups before it wakes count as one)."""
    pipe = client().pipeline(transaction=True)
    pipe.lpush(_reveil_key(queue), "1")
    pipe.ltrim(_reveil_key(queue), 0, 0)
    pipe.execute()


LONGEST_WAIT = 50  # seconds: a worker waiting longer looks again (and sees a stop request)


def attendre_reveil(queue: str, seconds: float) -> bool:
    """Wait until `queue` is woken (True) or `seconds` have passed (False), at most
    LONGEST_WAIT at a time. A client of its own: the shared one gives up on a socket silent for
    5 s; this one waits a little longer than Redis is asked to."""
    waiting = current_app.extensions.get(_CLIENT + "_attente")
    if waiting is None:
        import redis

        waiting = redis.Redis.from_url(
            current_app.config["CLEA_REDIS_URL"], decode_responses=True,
            socket_connect_timeout=5, socket_timeout=LONGEST_WAIT + 10)
        current_app.extensions[_CLIENT + "_attente"] = waiting
    timeout = min(LONGEST_WAIT, max(1, math.ceil(seconds)))
    return waiting.blpop([_reveil_key(queue)], timeout=timeout) is not None


# --- API tokens: the users' session generations ------------------------------------------------

# How long Redis keeps a generation it read from the database (a miss then reads it again).
GENERATION_TTL = dt.timedelta(minutes=10)
_PENDING = "clea_generations"  # Session.info: the generations raised in the transaction
# Store a generation only if it is higher than the one held (a raise never goes back).
_RAISE = ("local held = redis.call('GET', KEYS[1]) "
          "if (not held) or tonumber(held) < tonumber(ARGV[1]) then "
          "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 0")


def _generation_key(user_id: int) -> str:
    return PREFIX + "gen:" + str(user_id)


def generation(user_id: int, from_database: Callable[[int], Optional[int]]) -> Optional[int]:
    """The session generation of `user_id`: from Redis (shared store), else from the
    database (`from_database`), then kept in Redis unless a raise was stored meanwhile."""
    if not actif():
        return from_database(user_id)
    name = _generation_key(user_id)
    held = client().get(name)
    if held is not None:
        try:
            return int(held)
        except ValueError:
            pass
    value = from_database(user_id)
    if value is not None:
        client().set(name, value, ex=_seconds(GENERATION_TTL), nx=held is None)
    return value


def generation_changee(user_id: int, value: int) -> None:
    """The user's generation was raised to `value` in the current transaction: Redis takes
    it when the transaction commits (at once for every app server), not if it rolls back."""
    if actif():
        db.session.info.setdefault(_PENDING, {})[user_id] = value


@event.listens_for(Session, "after_commit")
def _publier_generations(session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    redis_client = client()
    for user_id, value in pending.items():
        redis_client.eval(_RAISE, 1, _generation_key(user_id), value,
                          _seconds(GENERATION_TTL))


@event.listens_for(Session, "after_soft_rollback")
def _oublier_generations(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
