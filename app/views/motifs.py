"""« Motifs types »: Certif Pro keeps the standard motives the decision forms offer."""
from __future__ import annotations

from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField

from app.models import MotifType
from app.services import motifs as service

from .base import EagerInterface, ScopedModelView, yes_no
from .filters import OUI_NON


class MotifTypeView(ScopedModelView):
    resource = "MotifType"
    datamodel = EagerInterface(MotifType)
    list_title = _l("Motifs types")
    show_title = _l("Motif type")
    add_title = _l("Ajouter un motif type")
    add_label = _l("Ajouter un motif type")
    edit_title = _l("Modifier le motif type")
    list_columns = ["contexte", "libelle", "ordre", "actif"]
    show_columns = ["contexte", "libelle", "texte", "ordre", "actif"]
    add_columns = ["contexte", "libelle", "texte", "ordre", "actif"]
    edit_columns = add_columns
    search_columns = ["contexte", "libelle", "actif"]
    order_columns = ["contexte", "libelle", "ordre"]
    base_order = ("ordre", "asc")
    label_columns = {"contexte": _l("Proposé pour"), "libelle": _l("Libellé"),
                     "texte": _l("Texte du motif"), "ordre": _l("Ordre"),
                     "actif": _l("Proposé")}
    description_columns = {
        "libelle": _l("Ce que la liste des motifs affiche."),
        "texte": _l("Le motif tel qu'il est enregistré et notifié ; il reste modifiable dans "
                    "chaque décision."),
        "ordre": _l("Les motifs sont proposés du plus petit au plus grand."),
        "actif": _l("Décochez pour ne plus le proposer sans l'effacer."),
    }
    add_form_extra_fields = {"contexte": SelectField(
        _l("Proposé pour"), choices=list(service.CONTEXTES.items()), widget=Select2Widget(),
        description=_l("Le formulaire de décision qui propose ce motif.")),
        "actif": BooleanField(_l("Proposé"), default=True,
                              description=_l("Décochez pour ne plus le proposer sans l'effacer."))}
    edit_form_extra_fields = add_form_extra_fields
    formatters_columns = {"contexte": service.contexte_label, "actif": yes_no}
    choice_filters = {"contexte": list(service.CONTEXTES.items()), "actif": OUI_NON}
    delete_question = _l("Supprimer le motif type « %(nom)s » ?")

    def service_create(self, data):
        return service.create(data, self.user)

    def service_update(self, item, data):
        return service.update(item, data, self.user)

    def service_delete(self, item):
        service.delete(item, self.user)

    def supprimables(self, pks):
        return service.supprimables(pks)
