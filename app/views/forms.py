"""What every form of the screens shares: the validator that makes a field required (its
asterisk comes from it, templates/clea/_forms.html), and putting a service's refusal on the
form, next to its field or in the form's own errors (both shown by the error summary)."""
from __future__ import annotations

from typing import Optional

from flask_babel import gettext as _
from wtforms.validators import StopValidation

from app.services.errors import ServiceError


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


class Obligatoire:
    """Required, with the platform's French message; `sauf` names a field that may stand in
    for this one (the commune of birth, or the country for someone born abroad). Sets the
    field's "required" flag, which draws the asterisk."""

    field_flags = {"required": True}

    def __init__(self, sauf: Optional[str] = None):
        self.sauf = sauf

    def __call__(self, form, field):
        if not _empty(field.data):
            return
        if field.errors and any(str(v).strip() for v in field.raw_data or []):
            raise StopValidation()  # typed but unreadable (a date): its own message says why
        if self.sauf and self.sauf in form._fields and not _empty(form[self.sauf].data):
            field.errors[:] = []
            raise StopValidation()
        if self.sauf and self.sauf in form._fields:
            message = _("Renseignez « %(champ)s » ou « %(autre)s ».", champ=field.label.text,
                        autre=form[self.sauf].label.text)
        else:
            message = _("Le champ « %(champ)s » est obligatoire.", champ=field.label.text)
        field.errors[:] = []
        raise StopValidation(message)


def show_service_error(form, error: ServiceError) -> None:
    """A refusal next to its field (the typed value is kept), or in the summary when it is
    about the whole form."""
    field = error.field
    if field and field not in form._fields and field.endswith("_id") \
            and field[:-3] in form._fields:
        field = field[:-3]
    if field and field in form._fields:
        form[field].errors = list(form[field].errors or []) + [error.message]
    else:
        form.form_errors = list(form.form_errors or []) + [error.message]


class AuMoins:
    """At least `n` characters (the service's constant), refused with the service's message
    `message(label)`; sets the "minlength" flag, which writes the hint under the field."""

    def __init__(self, n: int, message):
        self.n = n
        self.message = message
        self.field_flags = {"minlength": n}

    def __call__(self, form, field):
        if not _empty(field.data) and len(field.data.strip()) < self.n:
            raise StopValidation(self.message(field.label.text))
