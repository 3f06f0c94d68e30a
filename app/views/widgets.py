"""Form widgets of our own: a search-as-you-type select served by /lookup (no unbounded
dropdown, perimeter-filtered on the server)."""
from __future__ import annotations

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.widgets import html_params


class AjaxSelectWidget:
    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, field, **kwargs):
        from flask import url_for
        from flask_babel import gettext as _

        kwargs.setdefault("id", field.id)
        params = html_params(
            name=field.name,
            class_="form-control clea-ajax-select",
            data_url=url_for("LookupView.lookup", kind=self.kind),
            data_hint=_("Saisissez un nom pour rechercher"),
            **kwargs,
        )
        option = ""
        if field.data:
            option = f'<option value="{escape(field.data)}" selected>{escape(field.label_text)}</option>'
        # html_params and escape() have escaped every value put in the markup
        return Markup(f'<select {params}><option value=""></option>{option}</select>')  # nosec B704


class AjaxSelectField(Field):
    """Holds an integer id; `label_text` is the current choice's label for display."""

    def __init__(self, label=None, validators=None, kind: str = "", **kwargs):
        kwargs.setdefault("widget", AjaxSelectWidget(kind))
        super().__init__(label, validators, **kwargs)
        self.label_text = ""

    def process_formdata(self, valuelist):
        raw = valuelist[0] if valuelist else ""
        try:
            self.data = int(raw) if raw not in ("", None) else None
        except ValueError:
            self.data = None

    def _value(self):
        return "" if self.data is None else str(self.data)


class NativeDateWidget:
    """<input type="date">: the browser shows it in the user's language (JJ/MM/AAAA, days
    « lu ma me… » in French) with its own calendar, offline; the value sent is AAAA-MM-JJ,
    what wtforms' DateField reads. Replaces FAB's English bootstrap-datepicker."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        css = kwargs.pop("class", "") or kwargs.pop("class_", "")
        value = field._value() if hasattr(field, "_value") else (field.data or "")
        attrs = html_params(type="date", value=value, class_=f"form-control {css}".strip(),
                            **kwargs)
        # html_params escapes every attribute value
        return Markup(f"<input {attrs}>")  # nosec B704
