"""Password policy: at least 12 characters with lower case, upper case, digit and symbol;
not containing the login, the first name or the last name (accents and case ignored, names
of 3 letters or more); not one of the user's last CLEA_PASSWORD_HISTORY passwords (the
current one included). Also FAB's complexity hook."""
from __future__ import annotations

import re
from typing import Any, Optional

from flask import current_app, g, has_request_context, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from .texte import normalize

MIN_LENGTH = 12
MIN_NAME_LETTERS = 3


def hash_password(password: str) -> str:
    """The digest stored for `password`, by CLEA_PASSWORD_HASH_METHOD (scrypt; the tests'
    configuration uses a cheap pbkdf2). Checks read the method from the digest itself."""
    return generate_password_hash(
        password, method=current_app.config.get("CLEA_PASSWORD_HASH_METHOD", "scrypt"))


def password_problems(password: str) -> list[str]:
    password = password or ""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("au moins %(n)d caractères", n=MIN_LENGTH))
    if not re.search(r"[a-z]", password):
        problems.append(_("une minuscule"))
    if not re.search(r"[A-Z]", password):
        problems.append(_("une majuscule"))
    if not re.search(r"\d", password):
        problems.append(_("un chiffre"))
    if not re.search(r"[^A-Za-z0-9]", password):
        problems.append(_("un caractère spécial"))
    return problems


def regle() -> str:
    """The policy as the forms show it under the field, before it bites."""
    return _("Au moins %(n)d caractères, avec une minuscule, une majuscule, un chiffre et un "
             "caractère spécial ; ni votre identifiant, ni votre prénom, ni votre nom, ni l'un "
             "de vos %(h)d derniers mots de passe.", n=MIN_LENGTH, h=_history_size())


def policy_message(problems: list[str]) -> str:
    return _("Mot de passe trop faible : il doit contenir %(liste)s.", liste=", ".join(problems))


def _history_size() -> int:
    return int(current_app.config.get("CLEA_PASSWORD_HISTORY", 5))


def _folded(text: Optional[str]) -> str:
    return normalize(text).replace(" ", "")


def _personal_words(login: Optional[str], first_name: Optional[str],
                    last_name: Optional[str]) -> list[str]:
    """The login, and each word of the names (« Marie-Charlotte » → marie, charlotte), folded;
    only words of MIN_NAME_LETTERS letters or more."""
    words = [_folded(login)]
    for name in (first_name, last_name):
        folded = _folded(name)
        words.append(folded)
        words.extend(normalize(name).split())
    return [w for w in dict.fromkeys(words) if len(re.sub(r"[^a-z]", "", w)) >= MIN_NAME_LETTERS]


def contains_identity(password: str, login: Optional[str], first_name: Optional[str],
                      last_name: Optional[str]) -> bool:
    folded = _folded(password)
    return any(word in folded for word in _personal_words(login, first_name, last_name))


def identity_message() -> str:
    return _("Ce mot de passe contient votre identifiant, votre prénom ou votre nom : "
             "choisissez-en un autre.")


def history_message() -> str:
    return _("Vous avez déjà utilisé ce mot de passe récemment : choisissez-en un que vous "
             "n'avez pas utilisé parmi vos %(n)d derniers.", n=_history_size())


def recent_hashes(user: Any) -> list[str]:
    """The current hash and the previous ones: the last CLEA_PASSWORD_HISTORY passwords."""
    from app.extensions import db
    from app.models import PasswordHistory

    hashes = [user.password] if getattr(user, "password", None) else []
    if getattr(user, "id", None) is not None:
        hashes += db.session.execute(
            select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.id.desc()).limit(_history_size() - 1)).scalars().all()
    return hashes


def problem(password: str, user: Any = None, login: Optional[str] = None,
            first_name: Optional[str] = None, last_name: Optional[str] = None) -> Optional[str]:
    """Why `password` is refused for this user (or for the login and names of an account
    being created), else None."""
    problems = password_problems(password)
    if problems:
        return policy_message(problems)
    if user is not None:
        login = login or user.username
        first_name = first_name or user.first_name
        last_name = last_name or user.last_name
    if contains_identity(password, login, first_name, last_name):
        return identity_message()
    if user is not None and any(check_password_hash(h, password or "")
                                for h in recent_hashes(user)):
        return history_message()
    return None


def check_password(password: str, user: Any = None, login: Optional[str] = None,
                   first_name: Optional[str] = None, last_name: Optional[str] = None) -> None:
    from .errors import RuleError

    message = problem(password, user, login, first_name, last_name)
    if message:
        raise RuleError(message, field="password")


def remember(user: Any) -> None:
    """Before `user.password` is replaced: keep the old hash in the history (and no more
    than the policy compares). Adds to the transaction."""
    from app.extensions import db
    from app.models import PasswordHistory

    if not getattr(user, "password", None) or getattr(user, "id", None) is None:
        return
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password))
    db.session.flush()
    keep = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id).order_by(
        PasswordHistory.id.desc()).limit(max(_history_size() - 1, 1))
    db.session.execute(delete(PasswordHistory).where(
        PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(keep.scalar_subquery())))


def _fab_target_user() -> Any:
    """The account whose password FAB's own forms are setting: « Reset my password » (the
    user) or the technical Admin's « Reset password » (?pk=)."""
    if not has_request_context():
        return None
    sm = current_app.appbuilder.sm
    if request.endpoint and request.endpoint.startswith("ResetPasswordView"):
        pk = request.args.get("pk")
        return sm.get_user_by_id(int(pk)) if pk and pk.isdigit() else None
    user = getattr(g, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def fab_password_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR hook: same policy for FAB's own forms."""
    message = problem(password, _fab_target_user())
    if message:
        raise PasswordComplexityValidationError(message)
