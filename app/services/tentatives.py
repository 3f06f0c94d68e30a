"""Attempt counters shared by every app server (services/partage.py: Redis when
CLEA_REDIS_URL is set, else table attempt_counter): the progressive login delay and the
limits of « Mot de passe oublié ».

Login: the counters are keyed on the login AS TYPED and the address, never on whether the
account exists, so a known and an unknown login get the same answers. After
CLEA_LOGIN_FAILURES_FREE failures for one login from one address (or
CLEA_LOGIN_IP_FAILURES_FREE failures from one address, all logins together), further attempts
from THAT address are refused without checking the password for CLEA_LOGIN_DELAY_SECONDS,
twice as long after each further failure (capped by CLEA_LOGIN_DELAY_MAX_SECONDS). Another address is not affected: a stranger cannot lock the
real user out. A success from the address clears its (login, address) counter."""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Optional

from flask import current_app, g
from flask_babel import gettext as _

from . import partage


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:64]


def cle_connexion(login: str, ip: str) -> str:
    return "login:" + _digest((login or "").strip().lower(), ip or "")


def cle_adresse(ip: str) -> str:
    return "login-ip:" + _digest(ip or "")


def cle_reinitialisation_compte(user_id: int) -> str:
    return f"reset-user:{user_id}"


def cle_reinitialisation_adresse(ip: str) -> str:
    return "reset-ip:" + _digest(ip or "")


def incrementer(key: str, window: dt.timedelta, sliding: bool = False) -> int:
    """Count one attempt under `key` and return the count in the current window (fixed from
    the first attempt, or `sliding` while attempts keep coming less than `window` apart),
    atomically on every app server (services/partage.py: Redis or the database)."""
    return partage.compter(key, window, sliding)


# --- login -----------------------------------------------------------------------------------

def _window() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["CLEA_LOGIN_FAILURES_WINDOW_MINUTES"])


def delai(count: int, free: int) -> int:
    """Seconds refused after the `count`-th failure: 0 below `free`, then the first delay,
    doubled at each further failure, capped."""
    if count < free:
        return 0
    config = current_app.config
    return int(min(config["CLEA_LOGIN_DELAY_SECONDS"] * 2 ** min(count - free, 30),
                   config["CLEA_LOGIN_DELAY_MAX_SECONDS"]))


def attente(login: str, ip: str) -> int:
    """Seconds before `login` may be tried again from `ip` (0: now)."""
    return partage.attente([cle_connexion(login, ip), cle_adresse(ip)])


def echec(login: str, ip: str) -> None:
    """A failed login: count it for (login, address) and for the address; start a delay at
    the thresholds. Adds to the transaction (database store); the caller commits."""
    config = current_app.config
    for key, free in ((cle_connexion(login, ip), config["CLEA_LOGIN_FAILURES_FREE"]),
                      (cle_adresse(ip), config["CLEA_LOGIN_IP_FAILURES_FREE"])):
        seconds = delai(incrementer(key, _window(), sliding=True), free)
        if seconds:
            partage.bloquer(key, seconds)
    # Forget the counters nobody has touched for a day (no row per address kept forever).
    partage.nettoyer(max(_window(), dt.timedelta(days=1)))


def succes(login: str, ip: str) -> None:
    """A successful login clears its (login, address) counter — not the address's one, which
    an attacker owning an account could otherwise reset at will."""
    partage.oublier(cle_connexion(login, ip))


# --- « Mot de passe oublié » -----------------------------------------------------------------

def reinitialisation_refusee(user_id: Optional[int], ip: str) -> Optional[str]:
    """Count a reset request; why no e-mail may be sent ("limite_adresse", "limite_compte"),
    else None. `user_id` None: the address is counted only."""
    hour = dt.timedelta(hours=1)
    config = current_app.config
    if incrementer(cle_reinitialisation_adresse(ip), hour) > config["CLEA_RESET_PER_ADDRESS"]:
        return "limite_adresse"
    if user_id is not None and incrementer(cle_reinitialisation_compte(user_id), hour) > \
            config["CLEA_RESET_PER_ACCOUNT"]:
        return "limite_compte"
    return None


def login_refused_message() -> str:
    """The one answer to a wrong password, an unknown login and a suspended account."""
    return _("Identifiant ou mot de passe incorrect.")


def login_delayed_message(seconds: int) -> str:
    """The answer while a delay runs for this login from this address (the same whether or
    not the account exists)."""
    return _("Trop de tentatives de connexion depuis votre adresse : patientez %(n)d secondes "
             "avant de réessayer, ou utilisez « Mot de passe oublié ».", n=seconds)


def login_error() -> str:
    """The answer to the login just refused (HTML page and API): the delay running for this
    address if there is one, else the one refusal."""
    return g.pop("clea_login_error", None) or login_refused_message()

