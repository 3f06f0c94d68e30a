"""« Mes demandes de rattachement »: the key icon's form, the list, Certif Pro's decision."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Etablissement
from app.models.rattachement import Rattachement
from app.security import perimeter
from app.security.access import can
from app.security.matrix import UPDATE
from app.security.perimeter import actor
from app.services import lots, motifs
from app.services import rattachements as service
from app.services.candidatures import statut_label
from app.services.errors import RuleError, ServiceError

from .base import annoncer_rapport


class RattachementsView(BaseView):
    route_base = "/rattachements"
    default_view = "liste"
    class_permission_name = "Rattachement"
    method_permission_name = {"liste": "read", "fiche": "read", "demander": "create",
                              "decider": "update", "lot": "update"}

    @expose("/")
    @has_access
    def liste(self):
        return self._liste()

    def _liste(self, errors=None, saisie=None, coches=(), rapport=None, status=200):
        """The list; Certif Pro ticks pending requests and decides them at once, each one
        reported (a refused bulk decision comes back with its error and what was typed)."""
        user = actor()
        decideur = can(user, "Rattachement", UPDATE)
        rows = service.lister(user, request.args.get("page"))
        return self.render_template(
            "clea/rattachements/liste.html", rows=rows, motifs=service.MOTIFS,
            statuts=service.STATUTS, decideur=decideur,
            peut_decider=lambda demande: service.peut_decider(demande, user),
            motifs_types=motifs.proposes(motifs.RATTACHEMENT) if decideur else [],
            errors=errors or {}, saisie=saisie or {}, coches={str(c) for c in coches},
            rapport=rapport, lot_max=lots.LOT_MAX), status

    @expose("/lot", methods=["POST"])
    @has_access
    def lot(self):
        ids = request.form.getlist("ids")
        accepter = request.form.get("decision") == "accepter"
        form = {k: request.form.get(k, "") for k in ("decision", "motif_refus", "motif_type")}
        try:
            if request.form.get("decision") not in ("accepter", "refuser"):
                raise RuleError(_("Choisissez « Accepter » ou « Refuser »."), field="decision")
            rapport = service.decider_en_lot(ids, accepter, form["motif_refus"], actor(),
                                             motif_type=form["motif_type"])
        except ServiceError as error:
            db.session.rollback()
            return self._liste(errors={error.field or "form": error.message}, saisie=form,
                               coches=ids, status=400)
        annoncer_rapport(rapport)
        return self._liste(rapport=rapport)

    @expose("/<int:pk>")
    @has_access
    def fiche(self, pk):
        return self._fiche(perimeter.get_or_404(Rattachement, pk, actor()))

    def _fiche(self, demande, errors=None, saisie=None, status=200):
        """The request's page; a refused decision comes back here with its error and text."""
        peut_decider = service.peut_decider(demande, actor())
        return self.render_template("clea/rattachements/fiche.html", d=demande,
                                    motifs=service.MOTIFS, statuts=service.STATUTS,
                                    peut_decider=peut_decider,
                                    motifs_types=(motifs.proposes(motifs.RATTACHEMENT)
                                                  if peut_decider else []),
                                    peut_accepter=peut_decider
                                    and service.rattachable(demande.candidature),
                                    statut_dossier=statut_label(demande.candidature.statut),
                                    errors=errors or {}, saisie=saisie or {}), status

    @expose("/demander/<int:candidature_id>", methods=["GET", "POST"])
    @has_access
    def demander(self, candidature_id):
        user = actor()
        jeton = request.args.get("jeton")
        try:  # outside the perimeter, only with the search hit's handle (else 404)
            candidature = service.dossier_demande(candidature_id, jeton, user)
        except ServiceError:
            abort(404)
        refus = service.refus_demande(candidature) if request.method == "GET" else None
        if refus:
            flash(refus, "danger")
            return redirect(url_for("RechercheView.recherche",
                                    q=candidature.candidat.nom_naissance))
        etabs = db.session.execute(
            select(Etablissement.id, Etablissement.nom)
            .where(perimeter.clause(Etablissement, user), Etablissement.actif.is_(True))
            .order_by(Etablissement.nom).limit(500)).all()
        errors, form = {}, {"etablissement_cible_id": str(etabs[0][0]) if len(etabs) == 1
                            else ""}
        if request.method == "POST":
            form = {k: request.form.get(k, "") for k in ("etablissement_cible_id", "motif",
                                                         "motif_texte")}
            try:
                demande = service.demander(candidature.id, form, user)  # named above
            except ServiceError as error:
                db.session.rollback()
                errors[error.field or "form"] = error.message
            else:
                flash(_("Votre demande de rattachement est envoyée à Certif Pro ; vous serez "
                        "notifié de sa réponse."), "success")
                return redirect(url_for("RattachementsView.fiche", pk=demande.id))
        # Minimal identity only: the dossier is outside the requester's perimeter.
        return self.render_template("clea/rattachements/demander.html", c=candidature,
                                    etabs=etabs, motifs=service.MOTIFS, errors=errors,
                                    form=form), 400 if errors else 200

    @expose("/<int:pk>/decider", methods=["POST"])
    @has_access
    def decider(self, pk):
        demande = perimeter.get_or_404(Rattachement, pk, actor())
        accepter = request.form.get("decision") == "accepter"
        try:
            service.decider(demande, accepter, request.form.get("motif_refus", ""), actor(),
                            motif_type=request.form.get("motif_type"))
        except ServiceError as error:
            db.session.rollback()
            db.session.refresh(demande)
            return self._fiche(demande, {error.field or "form": error.message}, request.form,
                               status=400)
        flash(_("Demande acceptée : le dossier est transféré.") if accepter
              else _("Demande refusée."), "success")
        return redirect(url_for("RattachementsView.fiche", pk=pk))
