"""Screens: Mon réseau, Mes organismes (fiche organisme), Mes établissements (Visualiser
l'établissement). Thin: every change goes through services.structure."""
from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, Select2Widget
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired

from app.models import REGIONS, Etablissement, Organisme, Reseau
from app.security.access import is_national
from app.security import perimeter
from app.security.perimeter import PerimeterFilter
from app.services import habilitations
from app.services import structure as service

from .base import EagerInterface, ScopedModelView, yes_no
from .filters import OUI_NON
from .habilitations import HabilitationsEtablissementView

CONTACT_LABELS = {
    "contact_nom": _l("Contact (nom)"),
    "contact_email": _l("Contact (e-mail)"),
    "contact_telephone": _l("Contact (téléphone)"),
    "adresse": _l("Adresse"),
    "code_postal": _l("Code postal"),
    "ville": _l("Ville"),
    "actif": _l("Actif"),
    "created_on": _l("Créé le"),
}


class EtablissementView(ScopedModelView):
    resource = "Etablissement"
    related_views = [HabilitationsEtablissementView]
    datamodel = EagerInterface(Etablissement, eager=[joinedload(Etablissement.organisme)])
    list_title = _l("Mes établissements")
    show_title = _l("Visualiser l'établissement")
    add_title = _l("Créer un établissement")
    edit_title = _l("Modifier l'établissement")
    list_columns = ["nom", "organisme", "siret", "ville", "region_nom", "actif"]
    search_columns = ["nom", "siret", "ville", "region", "actif"]
    show_columns = ["nom", "organisme", "siret", "adresse", "code_postal", "ville", "region_nom",
                    "contact_nom", "contact_email", "contact_telephone", "actif", "created_on"]
    add_columns = ["organisme", "nom", "siret", "adresse", "code_postal", "ville", "region",
                   "contact_nom", "contact_email", "contact_telephone", "actif"]
    edit_columns = add_columns
    order_columns = ["nom", "siret", "ville", "actif"]
    base_order = ("nom", "asc")
    label_columns = {
        **CONTACT_LABELS,
        "nom": _l("Nom de l'établissement"),
        "organisme": _l("Organisme"),
        "siret": _l("SIRET"),
        "region": _l("Région"),
        "region_nom": _l("Région"),
    }
    description_columns = {
        "nom": _l("Bonne pratique : NOM DE L'ORGANISME suivi du nom de l'établissement ou de "
                  "la ville du site, par exemple « LA BOETIE Marseille »."),
    }
    formatters_columns = {"actif": yes_no}
    choice_filters = {"region": list(REGIONS.items()), "actif": OUI_NON}
    delete_question = _l("Supprimer l'établissement « %(nom)s » ?")
    add_form_query_rel_fields = {"organisme": [["id", PerimeterFilter, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    add_form_extra_fields = {
        "region": SelectField(
            _l("Région"),
            choices=[("", "—")] + list(REGIONS.items()),
            widget=Select2Widget(),
            validators=[DataRequired()],
            description=_l("Région du site : elle détermine le jury Transitions Pro compétent."),
        ),
        "siret": StringField(_l("SIRET"), widget=BS3TextFieldWidget(),
                             validators=[DataRequired()],
                             description=_l("14 chiffres ; il commence par le SIREN de "
                                            "l'organisme.")),
        "actif": BooleanField(_l("Actif"), default=True,
                              description=_l("Seul Certif Pro peut modifier le statut Actif.")),
    }
    edit_form_extra_fields = add_form_extra_fields
    add_extra_buttons = (("autre", _l("Créer et ajouter un autre établissement")),)

    def hidden_fields(self):
        return set() if is_national(self.user) else {"actif"}

    def service_create(self, data):
        return service.create_etablissement(data, self.user)

    def service_update(self, item, data):
        return service.update_etablissement(item, data, self.user)

    def service_delete(self, item):
        service.delete_etablissement(item, self.user)

    def supprimables(self, pks):
        return service.supprimables(Etablissement, pks)

    def post_add_redirect(self):
        created = g.get("clea_created")
        if created is not None and request.form.get("_then") == "autre":
            return redirect(url_for(f"{type(self).__name__}.add",
                                    _flt_0_organisme=created.organisme_id))
        if created is not None:
            return redirect(url_for(f"{type(self).__name__}.show", pk=created.id))
        return super().post_add_redirect()


class EtablissementsOrganismeView(EtablissementView):
    """The "Établissements" rubrique of the fiche organisme (same rules, its own title)."""

    list_title = _l("Établissements")
    related_views = []
    record_view = "EtablissementView"  # its page has the « Habilitation(s) en cours » tab


class OrganismeView(ScopedModelView):
    resource = "Organisme"
    datamodel = EagerInterface(Organisme, eager=[joinedload(Organisme.reseau)])
    related_views = [EtablissementsOrganismeView]
    show_template = "clea/organisme_show.html"

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        organisme = perimeter.get_or_404(Organisme, pk, self.user)
        widgets = self._show(organisme.id)
        return self.render_template(
            self.show_template, pk=organisme.id, title=self.show_title, widgets=widgets,
            related_views=self._related_views,
            habilitations=habilitations.par_organisme(organisme, self.user))
    list_title = _l("Mes organismes")
    show_title = _l("Fiche organisme")
    add_title = _l("Créer un organisme")
    edit_title = _l("Modifier l'organisme")
    list_columns = ["raison_sociale", "siren", "ville", "reseau", "actif"]
    search_columns = ["raison_sociale", "siren", "nda", "ville", "actif"]
    show_columns = ["raison_sociale", "siren", "nda", "reseau", "adresse", "code_postal", "ville",
                    "contact_nom", "contact_email", "contact_telephone", "actif", "created_on"]
    add_columns = ["raison_sociale", "siren", "nda", "reseau", "adresse", "code_postal", "ville",
                   "contact_nom", "contact_email", "contact_telephone", "actif"]
    edit_columns = add_columns
    order_columns = ["raison_sociale", "siren", "ville", "actif"]
    base_order = ("raison_sociale", "asc")
    label_columns = {
        **CONTACT_LABELS,
        "raison_sociale": _l("Raison sociale"),
        "siren": _l("SIREN"),
        "nda": _l("N° de déclaration d'activité (NDA)"),
        "reseau": _l("Réseau"),
    }
    description_columns = {"nda": _l("11 chiffres, facultatif.")}
    formatters_columns = {"actif": yes_no}
    choice_filters = {"actif": OUI_NON}
    delete_question = _l("Supprimer l'organisme « %(nom)s » ?")
    add_form_query_rel_fields = {"reseau": [["id", PerimeterFilter, None]]}
    edit_form_query_rel_fields = add_form_query_rel_fields
    add_form_extra_fields = {
        "siren": StringField(_l("SIREN"), widget=BS3TextFieldWidget(),
                             validators=[DataRequired()], description=_l("9 chiffres.")),
        "actif": BooleanField(_l("Actif"), default=True,
                              description=_l("Un organisme inactif ne peut plus enregistrer de "
                                             "candidatures ni compléter de dossiers. Seul Certif "
                                             "Pro peut modifier ce statut.")),
    }
    edit_form_extra_fields = add_form_extra_fields
    add_extra_buttons = (("etablissement", _l("Créer et ajouter un établissement")),)

    def hidden_fields(self):
        return set() if is_national(self.user) else {"actif", "reseau"}

    def service_create(self, data):
        return service.create_organisme(data, self.user)

    def service_update(self, item, data):
        return service.update_organisme(item, data, self.user)

    def service_delete(self, item):
        service.delete_organisme(item, self.user)

    def supprimables(self, pks):
        return service.supprimables(Organisme, pks)

    def post_add_redirect(self):
        created = g.get("clea_created")
        if created is not None and request.form.get("_then") == "etablissement":
            return redirect(url_for("EtablissementView.add", _flt_0_organisme=created.id))
        if created is not None:
            return redirect(url_for(f"{type(self).__name__}.show", pk=created.id))
        return super().post_add_redirect()


class ReseauView(ScopedModelView):
    resource = "Reseau"
    datamodel = EagerInterface(Reseau)
    related_views = [OrganismeView]
    list_title = _l("Mon réseau")
    show_title = _l("Fiche réseau")
    add_title = _l("Créer un réseau")
    edit_title = _l("Modifier le réseau")
    list_columns = ["nom", "contact_nom", "contact_email", "contact_telephone"]
    search_columns = ["nom"]
    show_columns = ["nom", "contact_nom", "contact_email", "contact_telephone", "created_on"]
    add_columns = ["nom", "contact_nom", "contact_email", "contact_telephone"]
    edit_columns = add_columns
    base_order = ("nom", "asc")
    delete_question = _l("Supprimer le réseau « %(nom)s » ?")
    label_columns = {
        **CONTACT_LABELS,
        "nom": _l("Nom du réseau"),
        "contact_nom": _l("Responsable tête de réseau"),
        "contact_email": _l("E-mail du responsable"),
        "contact_telephone": _l("Téléphone du responsable"),
    }

    def hidden_fields(self):
        return set() if is_national(self.user) else {"nom"}

    def service_create(self, data):
        return service.create_reseau(data, self.user)

    def service_update(self, item, data):
        return service.update_reseau(item, data, self.user)

    def service_delete(self, item):
        service.delete_reseau(item, self.user)

    def supprimables(self, pks):
        return service.supprimables(Reseau, pks)
