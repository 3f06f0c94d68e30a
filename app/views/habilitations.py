"""Habilitations: the "Habilitation(s) en cours" tab of an établissement (« Faire une
demande », « Renouveler », the motive behind the eye), the decision of Certif Pro or the CPNE,
and the public directory of habilitated établissements."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, Select2Widget
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from wtforms import SelectField, TextAreaField

from app.extensions import db
from app.models import REGIONS, Habilitation
from app.models.habilitation import BRANCHE, EN_ATTENTE, NATIONAL, STATUT_LABELS
from app.security import perimeter
from app.security.perimeter import actor
from app.services import habilitations as service
from app.services import lots, motifs
from app.services.errors import ServiceError

from .base import EagerInterface, ScopedModelView, annoncer_rapport


def _date(value):
    return value.strftime("%d/%m/%Y") if value else ""


class HabilitationView(ScopedModelView):
    resource = "Habilitation"
    datamodel = EagerInterface(Habilitation, eager=[joinedload(Habilitation.etablissement),
                                                    joinedload(Habilitation.branche)])
    list_title = _l("Habilitations")
    show_title = _l("Demande d'habilitation")
    add_title = _l("Faire une demande d'habilitation")
    add_label = _l("Faire une demande d'habilitation")  # the list's button, not a bare « + »
    show_template = "clea/habilitation_show.html"
    list_columns = ["etablissement", "portee_label", "statut_label", "date_debut", "date_fin",
                    "demande_le"]
    show_columns = ["etablissement", "portee_label", "statut_label", "commentaire",
                    "demande_le", "date_debut", "date_fin", "motif_rejet", "decide_le"]
    add_columns = ["etablissement", "portee", "branche", "commentaire"]
    search_columns = ["statut", "portee", "date_fin"]
    order_columns = ["statut", "date_debut", "date_fin", "demande_le"]
    base_order = ("demande_le", "desc")
    base_permissions = ["can_read", "can_create", "can_update"]
    label_columns = {
        "etablissement": _l("Établissement"), "portee": _l("Portée"),
        "portee_label": _l("Portée"), "branche": _l("Branche"), "statut": _l("État"),
        "statut_label": _l("État"), "commentaire": _l("Commentaire"),
        "demande_le": _l("Demandée le"), "date_debut": _l("Début"), "date_fin": _l("Fin"),
        "motif_rejet": _l("Motif du rejet"), "decide_le": _l("Décidée le"),
    }
    formatters_columns = {"date_debut": _date, "date_fin": _date}
    choice_filters = {
        "statut": list(STATUT_LABELS.items()),
        "portee": [(NATIONAL, _l("CléA socle (Certif Pro)")),
                   (BRANCHE, _l("Socle contextualisé"))],
    }
    add_form_query_rel_fields = {"etablissement": [["id", perimeter.PerimeterFilter, None]]}
    add_form_extra_fields = {
        "portee": SelectField(
            _l("Portée"), widget=Select2Widget(),
            choices=[(NATIONAL, _l("CléA socle — demande à Certif Pro")),
                     (BRANCHE, _l("Socle contextualisé — demande à la CPNE d'une branche"))],
            description=_l("Le socle contextualisé est habilité par la CPNE de la branche "
                           "choisie ci-dessous.")),
        "commentaire": TextAreaField(_l("Commentaire"), widget=BS3TextAreaFieldWidget()),
    }

    def service_create(self, data):
        return service.demander(data, self.user)

    def post_add_redirect(self):
        created = g.get("clea_created")
        if created is not None:
            flash(_("Votre demande est envoyée ; vous serez notifié de la décision."), "info")
            return redirect(url_for("EtablissementView.show", pk=created.etablissement_id,
                                    _anchor="HabilitationsEtablissementView"))
        return super().post_add_redirect()

    def _act(self, pk, command, success):
        hab = perimeter.get_or_404(Habilitation, pk, self.user)
        try:
            result = command(hab)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("HabilitationView.show", pk=hab.id))
        flash(success, "success")
        return redirect(url_for("HabilitationView.show", pk=result.id))

    @expose("/decider/<int:pk>", methods=["POST"])
    @has_access
    def decider(self, pk):
        """Valider (dates) or Rejeter (motive); a refusal comes back to the page with its
        message next to the field and what was typed (the dates included)."""
        hab = perimeter.get_or_404(Habilitation, pk, self.user)
        form = {k: request.form.get(k, "") for k in ("decision", "date_debut", "date_fin",
                                                       "motif", "motif_type",
                                                       "confirmer_duree")}
        try:
            service.decider(hab, form, self.user)
        except ServiceError as error:
            db.session.rollback()
            db.session.refresh(hab)
            return self._show_page(hab, errors={error.field or "form": error.message},
                                   saisie=form, status=400)
        flash(_("La décision est enregistrée et notifiée."), "success")
        return redirect(url_for("HabilitationView.show", pk=hab.id))

    @expose("/renouveler/<int:pk>", methods=["POST"])
    @has_access
    def renouveler(self, pk):
        return self._act(pk, lambda hab: service.renouveler(hab, self.user),
                         _("La demande de renouvellement est envoyée."))

    # No generic edit/delete screens (decisions go through « décider »): their permission
    # names are not granted to anyone, so FAB shows no button for them.
    method_permission_name = {**ScopedModelView.method_permission_name,
                              "edit": "noedit", "delete": "nodelete",
                              "decider": "update", "renouveler": "create"}

    @expose("/edit/<pk>", methods=["GET", "POST"])
    def edit(self, pk):
        abort(404)  # a request is decided (decider), never edited

    @expose("/delete/<pk>", methods=["GET", "POST"])
    def delete(self, pk):
        abort(404)  # requests and decisions stay in the history

    def show_extra(self, hab):
        peut_decider = hab.statut == EN_ATTENTE and service.peut_decider(self.user, hab)
        return {"peut_decider": peut_decider,
                "renouvelable": service.renouvelable(hab),
                # beside the form: the établissement's history, the standard motives
                "historique": service.historique(hab) if peut_decider else None,
                "motifs_types": motifs.proposes(motifs.HABILITATION) if peut_decider else [],
                "duree_usuelle": service.duree_usuelle_mois()}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return self._show_page(perimeter.get_or_404(Habilitation, pk, self.user))

    def _show_page(self, hab, errors=None, saisie=None, status=200):
        widgets = self._show(hab.id)
        return self.render_template(self.show_template, pk=hab.id, title=self.show_title,
                                    widgets=widgets, related_views=self._related_views,
                                    hab=hab, errors=errors or {}, saisie=saisie or {},
                                    **self.show_extra(hab)), status


class HabilitationsEtablissementView(HabilitationView):
    """The "Habilitation(s) en cours" tab of « Visualiser l'établissement »."""

    list_title = _l("Habilitation(s) en cours")
    list_columns = ["portee_label", "statut_label", "date_debut", "date_fin", "demande_le"]
    list_template = "appbuilder/general/model/list.html"


class AnnuaireView(BaseView):
    """« Annuaire des organismes habilités »: public, no personal data."""

    route_base = "/annuaire"
    default_view = "annuaire"

    @expose("/")
    def annuaire(self):
        region = request.args.get("region") or None
        ville = (request.args.get("ville") or "").strip()
        nom = (request.args.get("nom") or "").strip()
        if region and region not in REGIONS:
            abort(404)
        rows = service.annuaire(region, ville, nom, request.args.get("page"))
        return self.render_template("clea/annuaire.html", rows=rows, regions=REGIONS,
                                    region=region, ville=ville, nom=nom)


class HabilitationsADeciderView(BaseView):
    """« Demandes d'habilitation à décider »: the queue of Certif Pro's desk (a CPNE's jury:
    its branche's), oldest first; the requests ticked are decided at once, each one reported."""

    route_base = "/habilitations/a-decider"
    default_view = "liste"
    class_permission_name = "Habilitation"
    method_permission_name = {"liste": "update", "lot": "update"}

    @expose("/")
    @has_access
    def liste(self):
        return self._page()

    @expose("/lot", methods=["POST"])
    @has_access
    def lot(self):
        form = {k: request.form.get(k, "") for k in ("decision", "date_debut", "date_fin",
                                                       "motif", "motif_type",
                                                       "confirmer_duree")}
        ids = request.form.getlist("ids")
        try:
            rapport = service.decider_en_lot(ids, form, actor())
        except ServiceError as error:
            db.session.rollback()
            return self._page(errors={error.field or "form": error.message}, saisie=form,
                              coches=ids, status=400)
        annoncer_rapport(rapport)
        # some refused: the decision stays typed, to be applied again to the others
        refusees = any(not r.decidee for r in rapport)
        return self._page(rapport=rapport, saisie=form if refusees else None)

    def _page(self, errors=None, saisie=None, coches=(), rapport=None, status=200):
        user = actor()
        rows = service.a_decider(user, request.args.get("page"))
        return self.render_template(
            "clea/habilitations_a_decider.html", rows=rows, errors=errors or {},
            saisie=saisie or {}, coches={str(c) for c in coches}, rapport=rapport,
            motifs_types=motifs.proposes(motifs.HABILITATION),
            duree_usuelle=service.duree_usuelle_mois(),
            lot_max=lots.LOT_MAX), status
