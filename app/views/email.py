"""E-mails envoyés: the outbox, read-only, for Certif Pro."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models import EmailMessage

from .base import EagerInterface, ScopedModelView


STATUTS = {
    "a_envoyer": _l("À envoyer"),
    "envoye": _l("Envoyé"),
    "echec": _l("Échec"),
    "stocke": _l("Stocké (pas de serveur SMTP)"),
}


def _statut(value):
    return str(STATUTS.get(value, value))


class EmailEnvoyeView(ScopedModelView):
    resource = "EmailEnvoye"
    datamodel = EagerInterface(EmailMessage)
    list_title = _l("E-mails envoyés")
    show_title = _l("E-mail")
    list_columns = ["created_on", "destinataire", "sujet", "statut", "tentatives"]
    search_columns = ["destinataire", "sujet", "statut"]
    show_columns = ["created_on", "destinataire", "sujet", "statut", "tentatives",
                    "derniere_erreur", "sent_on", "corps_texte"]
    order_columns = ["created_on", "destinataire", "statut"]
    base_order = ("created_on", "desc")
    base_permissions = ["can_read"]
    label_columns = {
        "created_on": _l("Date"),
        "destinataire": _l("Destinataire"),
        "sujet": _l("Sujet"),
        "statut": _l("Statut"),
        "tentatives": _l("Tentatives"),
        "derniere_erreur": _l("Dernière erreur"),
        "sent_on": _l("Envoyé le"),
        "corps_texte": _l("Message"),
    }
    formatters_columns = {"statut": _statut}
    choice_filters = {"statut": list(STATUTS.items())}
