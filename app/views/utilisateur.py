"""Mes utilisateurs: list, create, edit, suspend/activate, send a reset e-mail (guide §9)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Email, Optional

from app.extensions import db
from app.models import Utilisateur
from app.security import perimeter
from app.security import roles as R
from app.services import accounts, deux_facteurs
from app.services.errors import ServiceError

from .base import EagerInterface, ScopedModelView, yes_no
from .filters import OUI_NON
from .lookup import lookup_label
from .widgets import AjaxSelectField

PERIMETER_FIELDS = ("reseau_id", "organisme_id", "etablissement_id", "certificateur_id")


class UtilisateurForm(DynamicForm):
    username = StringField(_l("Identifiant"), validators=[DataRequired()],
                           widget=BS3TextFieldWidget(),
                           description=_l("Identifiant de connexion, unique."))
    first_name = StringField(_l("Prénom"), validators=[DataRequired()], widget=BS3TextFieldWidget())
    last_name = StringField(_l("Nom"), validators=[DataRequired()], widget=BS3TextFieldWidget())
    email = StringField(_l("E-mail"), validators=[DataRequired(), Email()],
                        widget=BS3TextFieldWidget(),
                        description=_l("L'e-mail de première connexion est envoyé à cette adresse."))
    telephone = StringField(_l("Téléphone"), validators=[Optional()], widget=BS3TextFieldWidget())
    role = SelectField(_l("Rôle"), validators=[DataRequired()], widget=Select2Widget(),
                       description=_l("Vous pouvez attribuer un rôle identique ou inférieur au "
                                      "vôtre, jamais un rôle supérieur."))
    reseau_id = AjaxSelectField(_l("Réseau"), kind="reseau")
    organisme_id = AjaxSelectField(_l("Organisme"), kind="organisme")
    etablissement_id = AjaxSelectField(_l("Établissement"), kind="etablissement")
    certificateur_id = AjaxSelectField(_l("Certificateur"), kind="certificateur")


class UtilisateurEditForm(UtilisateurForm):
    username = StringField(_l("Identifiant"), widget=BS3TextFieldWidget(),
                           render_kw={"readonly": True})


class UtilisateurView(ScopedModelView):
    resource = "Utilisateur"
    datamodel = EagerInterface(Utilisateur, eager=[
        selectinload(Utilisateur.roles),
        joinedload(Utilisateur.reseau),
        joinedload(Utilisateur.organisme),
        joinedload(Utilisateur.etablissement),
        joinedload(Utilisateur.certificateur),
    ])
    list_title = _l("Mes utilisateurs")
    show_title = _l("Fiche utilisateur")
    add_title = _l("Créer un utilisateur")
    edit_title = _l("Modifier l'utilisateur")
    show_template = "clea/utilisateur_show.html"
    add_form = UtilisateurForm
    edit_form = UtilisateurEditForm
    list_columns = ["last_name", "first_name", "username", "email", "role_label",
                    "perimetre_label", "active"]
    search_columns = ["last_name", "first_name", "username", "email", "active"]
    show_columns = ["last_name", "first_name", "username", "email", "telephone", "role_label",
                    "perimetre_label", "active", "last_login", "created_on"]
    add_columns = ["username", "first_name", "last_name", "email", "telephone", "role",
                   *PERIMETER_FIELDS]
    edit_columns = add_columns
    order_columns = ["last_name", "first_name", "username", "email", "active"]
    base_order = ("last_name", "asc")
    label_columns = {
        "last_name": _l("Nom"),
        "first_name": _l("Prénom"),
        "username": _l("Identifiant"),
        "email": _l("E-mail"),
        "telephone": _l("Téléphone"),
        "role_label": _l("Rôle"),
        "perimetre_label": _l("Périmètre"),
        "active": _l("Actif"),
        "last_login": _l("Dernière connexion"),
        "created_on": _l("Créé le"),
    }
    formatters_columns = {"active": yes_no}
    choice_filters = {"active": OUI_NON}
    method_permission_name = {
        **ScopedModelView.method_permission_name,
        "suspendre": "update",
        "activer": "update",
        "reinitialiser": "update",
    }

    def relation_fields(self):
        return set()

    def refus_modification(self, item):
        refus = accounts.refus_gestion(self.user, item)
        return refus.message if refus is not None else None

    def prepare_form(self, form, item=None):
        form.role.choices = [("", "—")] + [(r.code, str(r.label))
                                            for r in R.grantable_roles(self.user)]
        if item is not None and request.method == "GET":  # edit form filled from the user
            form.role.data = item.role.code if item.role else ""
        for field in PERIMETER_FIELDS:
            form[field].label_text = lookup_label(field[:-3], form[field].data, self.user)
        # The page shows only the perimeter field that the chosen role needs (clea.js).
        form.role.render_kw = {"data-scopes": ",".join(
            f"{r.code}:{r.scope}" for r in R.ROLES)}

    def form_data(self, form, exclude_cols=()):
        data = super().form_data(form, exclude_cols)
        if isinstance(form, UtilisateurEditForm):
            data.pop("username", None)
        return data

    def service_create(self, data):
        return accounts.create_user(data, self.user)

    def service_update(self, item, data):
        return accounts.update_user(item, data, self.user)

    def post_add_redirect(self):
        created = g.get("clea_created")
        if created is not None:
            flash(_("Un e-mail de première connexion a été envoyé à %(email)s.",
                    email=created.email), "info")
            return redirect(url_for("UtilisateurView.show", pk=created.id))
        return super().post_add_redirect()

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """The fiche, with only the account buttons that apply (services.accounts)."""
        widgets = self._show(pk)  # 404 outside the perimeter
        target = db.session.get(Utilisateur, int(pk))
        return self.render_template(self.show_template, pk=target.id, title=self.show_title,
                                    widgets=widgets, related_views=self._related_views,
                                    compte={**accounts.actions_compte(target, self.user),
                                            "reinitialiser_2fa": deux_facteurs.peut_reinitialiser(
                                                target, self.user),
                                            "nom": str(target)})

    # --- account actions (POST, CSRF-protected, perimeter-checked by the service) ---
    def _act(self, pk, command, message):
        target = perimeter.get_or_404(Utilisateur, pk, self.user)
        try:
            command(target)
        except ServiceError as error:
            flash(error.message, "danger")
        else:
            flash(message(target), "success")
        return redirect(url_for("UtilisateurView.show", pk=target.id))

    @expose("/suspendre/<int:pk>", methods=["POST"])
    @has_access
    def suspendre(self, pk):
        return self._act(pk, lambda t: accounts.set_active(t, False, self.user),
                         lambda t: _("Le compte de %(nom)s est suspendu.", nom=str(t)))

    @expose("/activer/<int:pk>", methods=["POST"])
    @has_access
    def activer(self, pk):
        return self._act(pk, lambda t: accounts.set_active(t, True, self.user),
                         lambda t: _("Le compte de %(nom)s est réactivé.", nom=str(t)))

    @expose("/reinitialiser/<int:pk>", methods=["POST"])
    @has_access
    def reinitialiser(self, pk):
        return self._act(pk, lambda t: accounts.send_reset_email(t, self.user),
                         lambda t: _("Un e-mail de réinitialisation a été envoyé à %(email)s.",
                                     email=t.email))

    @expose("/delete/<pk>", methods=["GET", "POST"])
    def delete(self, pk):
        abort(404)  # accounts are suspended, never deleted (their history stays readable)
