"""« Aide / Contact »: a request to the support address, with who sends it and from where."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db

from . import audit
from .errors import RuleError
from .mail import queue_email

MIN_LENGTH = 10  # characters of the message (the form shows it under the field)
MAX_LENGTH = 5000


def contact_support(user: Any, sujet: str, message: str, page: str = "") -> None:
    sujet, message = (sujet or "").strip(), (message or "").strip()
    if not sujet:
        raise RuleError(_("Indiquez l'objet de votre demande."), field="sujet")
    if len(message) < MIN_LENGTH:
        raise RuleError(_("Décrivez votre demande (au moins %(n)d caractères).", n=MIN_LENGTH),
                        field="message")
    if len(message) > MAX_LENGTH:
        raise RuleError(_("Votre message dépasse %(n)d caractères.", n=MAX_LENGTH),
                        field="message")
    queue_email(current_app.config["CLEA_SUPPORT_EMAIL"], "support",
                f"[Support CléA] {sujet[:200]}", rubrique="support", user=user, sujet=sujet,
                message=message, page=(page or "")[:500])
    audit.record(user, "contacter_support", user, sujet[:200])
    db.session.commit()
