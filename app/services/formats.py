"""How values read in French on screens and certificates: elision before a role name
(« en tant qu'Administrateur »), agreement with the civilité (« née le »), numbers without a
useless decimal and with the decimal comma (« 14 h », « 66,7 % »), months by name
(« décembre 2026 »). The locale is Flask-Babel's, so English reads « as », « born on »,
« 14.5 h », « December 2026 »."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

NBSP = "\u00a0"
# French elides « que », « de », « le »… before a vowel; a role name never starts with a
# silent h, and « y » (« le yaourt ») does not elide.
VOYELLES = frozenset("aeiouàâäéèêëîïôöùûüœæ")


def elide(mot: str) -> bool:
    """True when French elides the word before `mot` (« qu'Administrateur », « que Jury »)."""
    return str(mot or "")[:1].lower() in VOYELLES


def en_tant_que(role: str) -> Markup:
    """« en tant qu'<strong>Administrateur organisme</strong> », « en tant que <strong>Jury</strong> »."""
    texte = _("en tant qu'%(role)s") if elide(role) else _("en tant que %(role)s")
    # escape() gives Markup, whose % escapes `role`
    return escape(texte) % {"role": Markup("<strong>%s</strong>") % role}


def ne_le(civilite: Optional[str], date: str) -> str:
    """« né le 05/12/1983 » for Monsieur, « née le … » for Madame, « né(e) le … » when unknown."""
    if civilite == "Mme":
        return _("née le %(date)s", date=date)
    if civilite == "M.":
        return _("né le %(date)s", date=date)
    return _("né(e) le %(date)s", date=date)


def nombre(value: Any, decimales: int = 2) -> str:
    """14.0 → « 14 », 14.5 → « 14,5 », 1234.5 → « 1 234,5 »; None → « — »."""
    if value is None or value == "":
        return "—"
    return format_decimal(value, "#,##0." + "#" * decimales if decimales else "#,##0")


def heures(value: Any) -> str:
    """A duration in hours: « 14 h », « 3,5 h » (non-breaking space before the unit)."""
    return f"{nombre(value)}{NBSP}h" if value not in (None, "") else "—"


def pourcentage(value: Any) -> str:
    """« 66,7 % », « 100 % » (non-breaking space before the sign)."""
    return f"{nombre(value, 1)}{NBSP}%" if value not in (None, "") else "—"


def _premier_du_mois(value: Any) -> Optional[dt.date]:
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        annee, mois_ = str(value).split("-")[:2]
        return dt.date(int(annee), int(mois_), 1)
    except (TypeError, ValueError):
        return None


def mois(value: Any) -> str:
    """« 2026-12 » (or a date) → « décembre 2026 »."""
    date = _premier_du_mois(value)
    return format_date(date, "LLLL yyyy") if date else str(value)


def mois_court(value: Any) -> str:
    """« 2026-12 » → « déc. 2026 » (chart axes)."""
    date = _premier_du_mois(value)
    return format_date(date, "LLL yyyy") if date else str(value)


FILTERS = {"nombre": nombre, "heures": heures, "pourcentage": pourcentage, "mois": mois,
           "mois_court": mois_court}
GLOBALS = {"en_tant_que": en_tant_que, "ne_le": ne_le}


def en_texte(rangee) -> None:
    """An openpyxl row of cells written as texts: openpyxl stores a text that starts with
    « = » as a formula, so a name such as « =HYPERLINK(…) » typed by anyone would become
    live in the sheet someone else opens (the writer of the big exports writes texts as
    texts already)."""
    for cell in rangee:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
