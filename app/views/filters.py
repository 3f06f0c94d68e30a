"""Search filters and form fields of the generated screens.

A coded column (a status, a scope, a region, a yes/no flag) is searched by choosing its French
label in a list, never by typing its internal code; its only operators are « Égal à » and
« Différent de ». Dates are native <input type="date"> fields (the browser shows them the
French way, JJ/MM/AAAA, and works offline), and an optional relation's empty option reads
« — Aucun — » instead of FAB's « __None »."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from flask_appbuilder.fieldwidgets import DatePickerWidget, Select2Widget
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_
from wtforms import SelectField

from .widgets import NativeDateWidget

Choices = Sequence[tuple[str, object]]

# Yes/no columns: the values a user chooses in the filter (the list shows OUI / NON too).
OUI_NON: Choices = (("1", _l("OUI")), ("0", _l("NON")))
EMPTY_LABEL = _l("— Aucun —")


class _ChoiceFilter(BaseFilter):
    """Keeps the rows whose column has (or has not) the chosen code. An unknown code matches
    nothing; an empty choice filters nothing. arg_names of their own: FAB maps arg_name to a
    class globally (for the REST API), which "eq" must keep meaning FilterEqual."""

    negate = False
    codes: frozenset = frozenset()  # set per column by `restrict_to_choices`

    def _typed(self, value: str):
        if self.datamodel.is_boolean(self.column_name):
            return value == "1"
        return value

    def apply(self, query, value):
        if value in (None, ""):
            return query
        if str(value) not in self.codes:
            return query.filter(false())
        query, field = get_field_setup_query(query, self.model, self.column_name)
        typed = self._typed(str(value))
        if self.negate:
            return query.filter(or_(field != typed, field.is_(None)))
        return query.filter(field == typed)


class ChoiceEqual(_ChoiceFilter):
    name = _l("Égal à")
    arg_name = "clea_choice_eq"


class ChoiceNotEqual(_ChoiceFilter):
    name = _l("Différent de")
    arg_name = "clea_choice_neq"
    negate = True


def restrict_to_choices(filters, datamodel, choice_filters: Mapping[str, Choices]) -> None:
    """Give each coded column of `filters` the two choice operators only. The search dropdown
    (_search_filters) and the URL arguments (_all_filters, by index) must list the same."""
    for column, choices in choice_filters.items():
        codes = frozenset(str(code) for code, _label in choices)
        # FAB re-creates filters from their class (column, datamodel): the codes live on a
        # class of the column's own.
        operators = [type(f"{base.__name__}_{column}", (base,), {"codes": codes})(column, datamodel)
                     for base in (ChoiceEqual, ChoiceNotEqual)]
        filters._all_filters[column] = operators
        if column in filters._search_filters:
            filters._search_filters[column] = operators


def choice_fields(choice_filters: Mapping[str, Choices], labels: Mapping[str, object]) -> dict:
    """The search form's select of French labels for each coded column."""
    return {
        column: SelectField(labels.get(column, column), choices=list(choices),
                            widget=Select2Widget())
        for column, choices in choice_filters.items()
    }


def frenchify(forms: Iterable) -> None:
    """Native date inputs and a French empty option in the generated (unbound) form classes."""
    for form in forms:
        if form is None:
            continue
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None or not hasattr(unbound, "kwargs"):
                continue
            widget = unbound.kwargs.get("widget")
            if isinstance(widget, DatePickerWidget):
                unbound.kwargs["widget"] = NativeDateWidget()
            if issubclass(field_class, QuerySelectField) and unbound.kwargs.get("allow_blank"):
                unbound.kwargs["blank_text"] = EMPTY_LABEL
