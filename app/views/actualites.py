"""Actualités: Certif Pro writes the news shown on the home page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional

from app.models import Actualite
from app.services import actualites as service

from .base import EagerInterface, ScopedModelView
from .widgets import NativeDateWidget


class ActualiteView(ScopedModelView):
    resource = "Actualite"
    datamodel = EagerInterface(Actualite)
    list_title = _l("Actualités")
    show_title = _l("Actualité")
    add_title = _l("Publier une actualité")
    edit_title = _l("Modifier l'actualité")
    list_columns = ["publie_le", "titre", "expire_le"]
    show_columns = ["titre", "texte", "publie_le", "expire_le", "created_on"]
    add_columns = ["titre", "texte", "publie_le", "expire_le"]
    edit_columns = add_columns
    search_columns = ["titre", "publie_le"]
    base_order = ("publie_le", "desc")
    label_columns = {"titre": _l("Titre"), "texte": _l("Texte"),
                     "publie_le": _l("Publiée le"), "expire_le": _l("Expire le"),
                     "created_on": _l("Créée le")}
    description_columns = {
        "publie_le": _l("Visible sur la page d'accueil à partir de cette date."),
        "expire_le": _l("Facultatif : l'actualité disparaît de l'accueil après cette date."),
    }
    add_form_extra_fields = {
        "publie_le": DateField(_l("Publiée le"), widget=NativeDateWidget(),
                               validators=[Optional()],
                               description=description_columns["publie_le"]),
        "expire_le": DateField(_l("Expire le"), widget=NativeDateWidget(),
                               validators=[Optional()],
                               description=description_columns["expire_le"]),
    }
    edit_form_extra_fields = add_form_extra_fields
    delete_question = _l("Supprimer l'actualité « %(nom)s » ?")

    def service_create(self, data):
        return service.create(data, self.user)

    def service_update(self, item, data):
        return service.update(item, data, self.user)

    def service_delete(self, item):
        service.delete(item, self.user)

    def supprimables(self, pks):
        return service.supprimables(pks)
