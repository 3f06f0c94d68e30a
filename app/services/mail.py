"""E-mail: every message is written to the outbox table (EmailMessage) in the caller's
transaction. With MAIL_SERVER set it is delivered over SMTP; without it, it stays "stocké" and
Certif Pro reads it in "E-mails envoyés" (so `make run` works offline)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Optional

from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale
from flask_mail import Message

from app.extensions import db, mail
from app.models import EmailMessage

log = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    """An absolute link for an e-mail: CLEA_BASE_URL, else the current request's host."""
    base = current_app.config.get("CLEA_BASE_URL") or (
        request.host_url if has_request_context() else "http://127.0.0.1:8080/"
    )
    return base.rstrip("/") + "/" + path.lstrip("/")


def queue_email(
    to: str, template: str, subject: str, rubrique: Optional[str] = None, **context: Any
) -> EmailMessage:
    """Render `emails/<template>.txt|.html` in French and store the message."""
    with force_locale("fr"):
        context.setdefault("support_email", current_app.config["CLEA_SUPPORT_EMAIL"])
        text = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    message = EmailMessage(
        destinataire=to,
        sujet=str(subject),
        corps_texte=text,
        corps_html=html,
        rubrique=rubrique,
        statut="a_envoyer" if current_app.config.get("MAIL_SERVER") else "stocke",
        tentatives=0,
    )
    db.session.add(message)
    if message.statut == "a_envoyer" and has_request_context():
        from flask import g

        g.clea_mail_queued = True  # delivered after the response's commit (app.init_mail)
    return message


def deliver(message: EmailMessage) -> bool:
    """Send one stored message over SMTP and record the attempt on the row."""
    if not current_app.config.get("MAIL_SERVER"):
        message.statut = "stocke"
        return False
    message.tentatives = (message.tentatives or 0) + 1
    try:
        mail.send(
            Message(
                subject=message.sujet,
                recipients=[message.destinataire],
                body=message.corps_texte,
                html=message.corps_html,
            )
        )
    except Exception as exc:  # SMTP errors of every kind: keep the message, record why
        log.warning("E-mail %s not delivered: %s", message.id, exc)
        message.statut = "echec"
        message.derniere_erreur = str(exc)[:2000]
        return False
    message.statut = "envoye"
    message.sent_on = dt.datetime.now()
    message.derniere_erreur = None
    return True


def deliver_pending(limit: int = 100) -> int:
    """Deliver messages waiting to be sent (called after a commit, and by the scheduler)."""
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    pending = db.session.scalars(
        db.select(EmailMessage)
        .where(EmailMessage.statut == "a_envoyer")
        .order_by(EmailMessage.id)
        .limit(limit)
    ).all()
    sent = sum(1 for m in pending if deliver(m))
    db.session.commit()
    return sent
