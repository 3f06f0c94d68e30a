"""Password policy: at least 12 characters with lower case, upper case, digit and symbol."""
from __future__ import annotations

import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

MIN_LENGTH = 12


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
             "caractère spécial.", n=MIN_LENGTH)


def policy_message(problems: list[str]) -> str:
    return _("Mot de passe trop faible : il doit contenir %(liste)s.", liste=", ".join(problems))


def check_password(password: str) -> None:
    from .errors import RuleError

    problems = password_problems(password)
    if problems:
        raise RuleError(policy_message(problems), field="password")


def fab_password_validator(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR hook: same policy for FAB's own forms."""
    problems = password_problems(password)
    if problems:
        raise PasswordComplexityValidationError(policy_message(problems))
