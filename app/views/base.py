"""Base classes for generated CRUD screens: perimeter filter, matrix permissions, and
create/update/delete routed through services (a refused input keeps the form and shows
the French message next to the field). Saving lands on the record's page; coded columns
are searched by their French labels (views/filters.py)."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import ModelView, expose
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.urltools import get_filter_args
from flask_appbuilder.widgets import FormWidget
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import db
from app.security.matrix import VIEW_METHOD_PERMISSIONS
from app.security.perimeter import PerimeterFilter
from app.services.errors import ServiceError

from . import filters as generic
from .forms import show_service_error


class EagerInterface(SQLAInterface):
    """SQLAInterface that eager-loads what a list shows (no query per row)."""

    def __init__(self, obj, eager: Iterable = (), session=None):
        super().__init__(obj, session)
        self.eager = tuple(eager)

    def apply_all(self, query, *args, **kwargs):
        query = super().apply_all(query, *args, **kwargs)
        return query.options(*self.eager) if self.eager else query

    def get_values(self, lst, list_columns):
        """Each row also carries the record's name (`_label`), for the buttons' labels and
        the delete question of the list."""
        for item, values in zip(lst, super().get_values(lst, list_columns)):
            values["_label"] = str(item)
            yield values


class CleaFormWidget(FormWidget):
    template = "clea/widgets/form.html"


def annoncer_rapport(rapport) -> None:
    """The flash after a bulk decision (services/lots): all decided, or how many were not."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    decidees = sum(r.decidee for r in rapport)
    if decidees == len(rapport):
        flash(ngettext("%(num)d demande décidée.", "%(num)d demandes décidées.", decidees),
              "success")
    else:
        flash(_("%(ok)d demande(s) décidée(s), %(ko)d refusée(s) : voir le compte rendu "
                "ci-dessous.", ok=decidees, ko=len(rapport) - decidees), "warning")


def yes_no(value: Any) -> str:
    from flask_babel import gettext as _

    return _("OUI") if value else _("NON")


class ScopedModelView(ModelView):
    """A CRUD screen on one matrix resource, limited to the user's perimeter."""

    resource: str = ""
    base_filters = [["id", PerimeterFilter, lambda: None]]
    method_permission_name = VIEW_METHOD_PERMISSIONS
    add_widget = CleaFormWidget
    edit_widget = CleaFormWidget
    page_size = 25
    # Extra submit buttons on the add form: (value, label)
    add_extra_buttons: tuple = ()
    # Coded columns searched by choosing a French label: {column: [(code, label), ...]}
    choice_filters: dict = {}
    # The bin's question; %(nom)s is the record's name.
    delete_question = _l("Supprimer « %(nom)s » ?")
    # The view whose show page is the record's page (where a save lands).
    record_view: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.resource:
            cls.class_permission_name = cls.resource

    # --- generated search and forms, in French ----------------------------------------
    def _init_properties(self):
        super()._init_properties()
        generic.restrict_to_choices(self._filters, self.datamodel, self.choice_filters)

    def _init_forms(self):
        self.search_form_extra_fields = {
            **generic.choice_fields(self.choice_filters, self.label_columns),
            **(self.search_form_extra_fields or {}),
        }
        super()._init_forms()
        generic.frenchify([self.search_form, self.add_form, self.edit_form])

    def _init_titles(self):
        # FAB's defaults read « List Habilitation », « Edit Email Message »...
        self.list_title = self.list_title or _l("Liste")
        self.show_title = self.show_title or _l("Visualiser")
        self.add_title = self.add_title or _l("Ajouter")
        self.edit_title = self.edit_title or _l("Modifier")
        super()._init_titles()

    # --- after a save: the record's page -----------------------------------------------
    def record_url(self, item) -> str:
        view = self.record_view or type(self).__name__
        return url_for(f"{view}.show", pk=self.datamodel.get_pk_value(item))

    def post_add_redirect(self):
        created = g.get("clea_created")
        if created is not None:
            return redirect(self.record_url(created))
        return super().post_add_redirect()

    def post_edit_redirect(self):
        edited = g.get("clea_edited")
        if edited is not None:
            return redirect(self.record_url(edited))
        return super().post_edit_redirect()

    # --- FAB routes that skip base_filters are closed ---------------------------------
    @expose("/download/<string:filename>")
    @has_access
    def download(self, filename):
        abort(404)

    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        abort(404)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        abort(404)

    # --- actions offered only when the service would accept them -------------------
    # The visible label of the list's add button (None: the add page's title, e.g.
    # « Créer un établissement », never a bare « + »).
    add_label: Optional[str] = None

    def refus_modification(self, item: Any) -> Optional[str]:
        """Why the service would refuse to change this row (None: it would accept): override
        with the service's rule."""
        return None

    def peut_modifier(self, item: Any) -> bool:
        """The pencil of this row and the fiche's « Modifier »."""
        return self.refus_modification(item) is None

    def _get_list_widget(self, filters, actions=None, order_column="", order_direction="",
                         page=None, page_size=None, widgets=None, **kwargs):
        """FAB 5.3's, plus each row's pencil and bin asked to the service's predicates
        (`peut_modifier`, and `supprimables` for the whole page at once), the question the
        bin asks, and the add button's label."""
        widgets = widgets or {}
        actions = actions or self.actions
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined_filters = filters.get_joined_filters(self._base_filters)
        count, lst = self.datamodel.query(joined_filters, order_column, order_direction,
                                          page=page, page_size=page_size)
        pks = [self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(lst)]
        may_delete = self.appbuilder.sm.has_access("can_delete", self.class_permission_name)
        deletable = self.supprimables(list(pks)) if may_delete else set()
        widgets["list"] = self.list_widget(
            label_columns=self.label_columns, include_columns=self.list_columns,
            value_columns=self.datamodel.get_values(lst, self.list_columns),
            order_columns=self.order_columns, formatters_columns=self.formatters_columns,
            page=page, page_size=page_size, count=count, pks=pks, actions=actions,
            filters=filters, modelview_name=self.__class__.__name__,
            row_actions=[{"modifier": self.peut_modifier(item), "supprimer": pk in deletable}
                         for pk, item in zip(pks, lst)],
            delete_question=str(self.delete_question),
            add_label=self.add_label or self.add_title, **kwargs)
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = super()._get_show_widget(pk, item, widgets=widgets, actions=actions,
                                           show_fieldsets=show_fieldsets)
        widgets["show"].template_args["peut_modifier"] = self.peut_modifier(item)
        return widgets

    # --- hooks for subclasses ---------------------------------------------------------
    def hidden_fields(self) -> set[str]:
        """Form fields the current user must not see nor submit."""
        return set()

    def service_create(self, data: dict) -> Any:
        raise AttributeError(f"{type(self).__name__} does not create")

    def service_update(self, item: Any, data: dict) -> Any:
        raise AttributeError(f"{type(self).__name__} does not update")

    def service_delete(self, item: Any) -> None:
        from flask_babel import gettext as _

        from app.services.errors import RuleError

        raise RuleError(_("Cet enregistrement ne peut pas être supprimé."))

    def supprimables(self, pks: list) -> set:
        """The rows of a list page whose bin is shown: those the service would delete (its
        predicate, for the whole page at once). None by default."""
        return set()

    def form_data(self, form, exclude_cols: Iterable[str] = ()) -> dict:
        hidden = self.hidden_fields()
        data = {}
        for name, field in form._fields.items():
            if name == "csrf_token" or name in hidden:
                continue
            value = field.data
            if hasattr(value, "id") and hasattr(value, "__table__"):
                data[f"{name}_id"] = value.id
            elif value is None and name in self.relation_fields():
                data[f"{name}_id"] = None
            else:
                data[name] = value.strip() if isinstance(value, str) else value
        return data

    def relation_fields(self) -> set[str]:
        return {c for c in (self.add_columns or []) + (self.edit_columns or [])
                if self.datamodel.is_relation(c)}

    @staticmethod
    def _show_error(form, error: ServiceError) -> None:
        """Next to the field (the input is kept), or in the form's error summary."""
        db.session.rollback()
        show_service_error(form, error)

    # --- FAB internals, routed through services ---------------------------------------
    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        exclude_cols = list(exclude_cols or []) + sorted(self.hidden_fields())
        widgets = super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)
        widgets["add"].template_args["extra_buttons"] = self.add_extra_buttons
        return widgets

    def _get_edit_widget(self, form, exclude_cols=None, widgets=None):
        exclude_cols = list(exclude_cols or []) + sorted(self.hidden_fields())
        return super()._get_edit_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def _add(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self._drop_hidden(form)
        self.prepare_form(form)
        if request.method == "POST":
            self._fill_form_exclude_cols(exclude_cols, form)
            if form.validate():
                try:
                    g.clea_created = self.service_create(self.form_data(form))
                except ServiceError as error:
                    self._show_error(form, error)
                else:
                    flash(str(self.add_row_message), "success")
                    return None
        return self._get_add_widget(form=form, exclude_cols=exclude_cols)

    def _edit(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        if request.method == "POST":
            form = self.edit_form.refresh(request.form)
            self._drop_hidden(form)
            self.prepare_form(form, item)
            form._id = pk
            if form.validate():
                try:
                    self.service_update(item, self.form_data(form))
                except ServiceError as error:
                    self._show_error(form, error)
                else:
                    g.clea_edited = item
                    flash(str(self.edit_row_message), "success")
                    return None
        else:
            refus = self.refus_modification(item)
            if refus is not None:  # said before anything is typed
                flash(refus, "danger")
                abort(redirect(url_for(f"{type(self).__name__}.show", pk=pk)))
            form = self.edit_form.refresh(obj=item)
            self._drop_hidden(form)
            self.prepare_form(form, item)
            self.prefill_form(form, pk)
        widgets = self._get_edit_widget(form=form, exclude_cols=[])
        return self._get_related_views_widgets(item, filters={}, orders={}, pages={},
                                               page_sizes={}, widgets=widgets)

    def _delete(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        try:
            self.service_delete(item)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(str(self.delete_row_message), "success")
        self.update_redirect()

    def _drop_hidden(self, form) -> None:
        for name in self.hidden_fields():
            if name in form._fields:
                del form[name]

    def prepare_form(self, form, item: Optional[Any] = None) -> None:
        """Set per-user choices on a form before it is validated or shown."""

    add_row_message = _l("Enregistrement créé.")
    edit_row_message = _l("Modifications enregistrées.")
    delete_row_message = _l("Enregistrement supprimé.")

    @property
    def user(self):
        return current_user._get_current_object()
