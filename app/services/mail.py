"""E-mail: every message is written to the outbox table (EmailMessage) in the caller's
transaction. With MAIL_SERVER set, the scheduler process delivers it over SMTP (retries with
backoff, each message sent once); without it, it stays "stocké" and Certif Pro reads it in
"E-mails envoyés" (so `make run` works offline)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Optional

from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message
from sqlalchemy import or_, select, update

from app.extensions import db, mail
from app.models import EmailMessage

from .urls import platform_url

log = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    """An absolute link for an e-mail: CLEA_BASE_URL (else CLEA_PUBLIC_URL, else the current
    request's host), see services/urls.py."""
    return platform_url(path)


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
    return message


MAX_ATTEMPTS = 8
STALE_CLAIM = dt.timedelta(minutes=10)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try: 1, 2, 4, 8… minutes, at most one hour."""
    return dt.timedelta(minutes=min(60, 2 ** max(attempts - 1, 0)))


def _claim(message_id: int, now: dt.datetime) -> bool:
    """Take a message for this process. Atomic: of two senders, one gets rowcount 1."""
    claimed = db.session.execute(
        update(EmailMessage)
        .where(EmailMessage.id == message_id, EmailMessage.statut == "a_envoyer")
        .values(statut="en_cours", pris_le=now)).rowcount
    db.session.commit()
    return claimed == 1


def deliver(message: EmailMessage, now: Optional[dt.datetime] = None) -> bool:
    """Send one claimed message over SMTP and record the attempt on the row.
    A failure is kept: retried later with backoff, "echec" after MAX_ATTEMPTS."""
    now = now or dt.datetime.now()
    message.tentatives = (message.tentatives or 0) + 1
    try:
        mail.send(Message(subject=message.sujet, recipients=[message.destinataire],
                          body=message.corps_texte, html=message.corps_html))
    except Exception as exc:  # SMTP errors of every kind: keep the message, record why
        log.warning("E-mail %s not delivered (attempt %s): %s", message.id,
                    message.tentatives, exc)
        message.derniere_erreur = str(exc)[:2000]
        if message.tentatives >= MAX_ATTEMPTS:
            message.statut = "echec"
        else:
            message.statut = "a_envoyer"
            message.prochain_essai = now + backoff(message.tentatives)
        db.session.commit()
        return False
    message.statut = "envoye"
    message.sent_on = now
    message.derniere_erreur = None
    db.session.commit()
    return True


def deliver_pending(limit: int = 200, now: Optional[dt.datetime] = None) -> int:
    """One pass of the scheduler's e-mail job: send what is due, each message once even
    when several schedulers run (each message is claimed before it is sent)."""
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    now = now or dt.datetime.now()
    # A sender that died while holding a message gives it back after STALE_CLAIM.
    db.session.execute(
        update(EmailMessage)
        .where(EmailMessage.statut == "en_cours", EmailMessage.pris_le < now - STALE_CLAIM)
        .values(statut="a_envoyer"))
    db.session.commit()
    due = db.session.scalars(
        select(EmailMessage.id)
        .where(EmailMessage.statut == "a_envoyer",
               or_(EmailMessage.prochain_essai.is_(None), EmailMessage.prochain_essai <= now))
        .order_by(EmailMessage.id).limit(limit)).all()
    sent = 0
    for message_id in due:
        if _claim(message_id, now):
            sent += deliver(db.session.get(EmailMessage, message_id), now)
    return sent
