"""Dates given by forms and the API: a date, a datetime or an ISO string (AAAA-MM-JJ)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from flask_babel import gettext as _

from .errors import RuleError


def parse_date(value: Any, field: str, message: Optional[str] = None) -> Optional[dt.date]:
    """None for an empty value; a RuleError (French, on `field`) for an unreadable one."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RuleError(message or _("Date invalide : %(v)s (format attendu AAAA-MM-JJ).",
                                     v=value), field=field)
