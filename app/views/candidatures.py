"""The Évaluations tab (guide §7, §14–§17): the dossiers list with its filters and the eye /
pencil / bin icons, abandoned dossiers with « Réintégrer », « Proposer une candidature » (after
the duplicate checks), the page CANDIDAT with its history and « Déclarer l'abandon », and the
national search of the header. Custom views over services.candidatures; the tab needs a valid
habilitation (services.habilitations.peut_evaluer)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import Forbidden
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional as Opt

from app.extensions import db
from app.models import Branche, Etablissement
from app.models import candidature as C
from app.models.candidature import Candidature, HistoriqueStatut
from app.models.evaluation import Document, Evaluation
from app.models.jury import SessionJury
from app.security import matrix, perimeter
from app.security.perimeter import actor
from app.security.redirects import local_url
from app.services import candidatures as service
from app.services import certification
from app.services import audit, documents, envois, evaluations, rattachements, rgpd
from app.services.errors import ServiceError
from app.services import habilitations
from app.services.habilitations import etablissements_habilites, peut_evaluer

from .forms import AuMoins, Obligatoire, show_service_error


class OngletFerme(Forbidden):
    """The Évaluations tab without a valid habilitation: 403 with the reason."""


def require_tab():
    user = actor()
    if not peut_evaluer(user):
        error = OngletFerme()
        error.clea_message = _("Les onglets Évaluations et Formations ne sont ouverts qu'aux "
                               "établissements disposant d'une habilitation CléA valide.")
        raise error


def _choices(mapping, empty=True):
    items = [(str(k), str(v)) for k, v in mapping.items()]
    return ([("", "—")] if empty else []) + items


def _regles(name: str, *extra) -> list:
    """A field's validators, from the service's tables: required (the asterisk) or optional."""
    if name in service.OBLIGATOIRES:
        return [Obligatoire(sauf=service.OBLIGATOIRES[name]), *extra]
    return [Opt(), *extra]


def _objectif():
    return AuMoins(service.OBJECTIF_MIN, service.objectif_trop_court)


class CandidatureForm(FlaskForm):
    etablissement_id = SelectField(_l("Établissement"), coerce=str,
                                   validators=_regles("etablissement_id"))
    civilite = SelectField(_l("Civilité"), validators=_regles("civilite"))
    nom_naissance = StringField(_l("Nom de naissance"), validators=_regles("nom_naissance"))
    nom_usage = StringField(_l("Nom d'usage"), validators=_regles("nom_usage"))
    prenoms = StringField(_l("Prénom(s)"), validators=_regles("prenoms"))
    date_naissance = DateField(_l("Date de naissance"), validators=_regles("date_naissance"))
    commune_naissance = StringField(_l("Commune de naissance"),
                                    validators=_regles("commune_naissance"))
    departement_naissance = StringField(_l("Département de naissance"),
                                        validators=_regles("departement_naissance"))
    pays_naissance = StringField(_l("Pays de naissance (si né hors de France)"),
                                 validators=_regles("pays_naissance"))
    email = StringField(_l("E-mail"), validators=_regles("email"))
    telephone = StringField(_l("Téléphone"), validators=_regles("telephone"))
    adresse = StringField(_l("Adresse postale"), validators=_regles("adresse"))
    code_postal = StringField(_l("Code postal"), validators=_regles("code_postal"))
    ville = StringField(_l("Ville"), validators=_regles("ville"))
    type_public = SelectField(_l("Type de public"), validators=_regles("type_public"))
    statut_inscription = SelectField(_l("Statut à l'inscription"),
                                     validators=_regles("statut_inscription"))
    branche_id = SelectField(_l("Branche délégataire"), validators=_regles("branche_id"))
    socle_contextualise = BooleanField(_l("Socle contextualisé (habilitation de branche)"))
    niveau_formation = SelectField(_l("Niveau de formation (EQF)"),
                                   validators=_regles("niveau_formation"))
    origine_demarche = SelectField(_l("Origine de la démarche (prescripteur)"),
                                   validators=_regles("origine_demarche"))
    objectif_pro = TextAreaField(_l("Objectifs de projet professionnel"),
                                 validators=_regles("objectif_pro", _objectif()))
    objectif_extra_pro = TextAreaField(_l("Objectifs de projet extra-professionnel"),
                                       validators=_regles("objectif_extra_pro", _objectif()))
    certificat_papier = BooleanField(_l("Certificat papier souhaité"))
    confirmer_homonymes = BooleanField(_l("Je confirme qu'il s'agit d'une autre personne"))

    def fill_choices(self, user):
        etabs = []
        if "etablissement_id" in self._fields:
            etabs = db.session.scalars(
                select(Etablissement).where(perimeter.clause(Etablissement, user))
                .where(Etablissement.id.in_(etablissements_habilites(user)))
                .order_by(Etablissement.nom).limit(500)).all()
            self.etablissement_id.choices = [("", "—")] + [(str(e.id), e.nom) for e in etabs]
        self.civilite.choices = _choices(service.CIVILITES)
        self.type_public.choices = _choices(service.TYPES_PUBLIC)
        self.statut_inscription.choices = _choices(service.STATUTS_INSCRIPTION)
        self.branche_id.choices = [("", "—")] + [
            (str(b.id), b.nom) for b in db.session.scalars(select(Branche).order_by(Branche.nom))]
        self.niveau_formation.choices = _choices(service.NIVEAUX)
        self.origine_demarche.choices = _choices(service.ORIGINES)
        if len(etabs) == 1 and not self.etablissement_id.data:
            self.etablissement_id.data = str(etabs[0].id)

    @classmethod
    def of_dossier(cls):
        """The edit form: the dossier keeps its établissement (only a rattachement moves it),
        so the field is not there to fail validation unseen."""
        form = cls()
        del form.etablissement_id
        return form

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "confirmer_homonymes")}


def _socle_aide(form, candidature=None):
    """Where « Socle contextualisé » may be chosen (the établissement's valid branche
    habilitations, services.habilitations): the help text, or None when nowhere."""
    if candidature is not None:
        etabs = {candidature.etablissement_id: candidature.etablissement.nom}
    else:
        etabs = {int(value): label for value, label in form.etablissement_id.choices if value}
    par_etab = habilitations.branches_habilitees(etabs)
    if not par_etab:
        return None
    if candidature is not None:
        return _("Possible avec l'habilitation de branche de l'établissement : %(branches)s.",
                 branches=", ".join(b.nom for b in par_etab[candidature.etablissement_id]))
    return _("Possible uniquement pour un établissement habilité pour la branche : "
             "%(liste)s.", liste=", ".join(
                 f"{etabs[i]} ({', '.join(b.nom for b in branches)})"
                 for i, branches in sorted(par_etab.items(), key=lambda kv: etabs[kv[0]])))


class _DossiersBase(BaseView):
    class_permission_name = "Candidature"
    method_permission_name = {"liste": "read"}
    default_view = "liste"
    abandonnees = False
    page_title = _l("Évaluations")
    lien = "CandidatureView.fiche"  # where the eye of a row leads

    @expose("/")
    @has_access
    def liste(self):
        require_tab()
        user = actor()
        rows = service.lister(user, request.args, request.args.get("page"),
                              abandonnees=self.abandonnees)
        role = matrix.rights(user.role, "Candidature") if user.role else {"create", "update",
                                                                           "delete"}
        return self.render_template(
            "clea/candidatures/liste.html", rows=rows, etabs=service.etablissements_du_filtre(user, request.args.get("etablissement")),
            jurys=service.jurys_du_filtre(user), statuts=service.STATUTS, args=request.args,
            abandonnees=self.abandonnees, title=self.page_title, label=service.statut_label,
            droits=role, motifs=service.MOTIFS_ABANDON, lien=self.lien,
            supprimable=lambda c, ids=service.supprimables(rows): c.id in ids,
            modifiable=lambda c: service.modifiable(c, user),
            formations=self.lien != "CandidatureView.fiche")


class DossiersView(_DossiersBase):
    route_base = "/evaluations"


class AbandonneesView(_DossiersBase):
    route_base = "/evaluations/abandonnees"
    abandonnees = True
    page_title = _l("Candidatures abandonnées")


# What the page CANDIDAT shows of the dossier, loaded with it (not one lazy load each).
# what the page CANDIDAT shows, loaded with the dossier: its session and certificateur, and
# its history with each author (one statement, not one per author)
FICHE = (joinedload(Candidature.candidat), joinedload(Candidature.etablissement),
         joinedload(Candidature.certificateur),
         joinedload(Candidature.session_jury).joinedload(SessionJury.certificateur),
         selectinload(Candidature.historique).joinedload(HistoriqueStatut.par))


class CandidatureView(BaseView):
    """The dossier: create, page CANDIDAT, edit, abandon, réintégrer, delete."""

    route_base = "/candidature"
    class_permission_name = "Candidature"
    method_permission_name = {"nouvelle": "create", "fiche": "read", "modifier": "update",
                              "abandonner": "update", "reintegrer": "update",
                              "supprimer": "delete", "deposer": "update",
                              "supprimer_document": "update", "envoyer": "update",
                              "annuler_envoi": "update", "completer": "update", "reprendre": "update",
                              "certificat": "read", "credential": "read"}

    @expose("/<int:pk>/envoyer", methods=["POST"])
    @has_access
    def envoyer(self, pk):
        """« Envoyer en certification » (after the check list shown on the page)."""
        return self._act(pk, lambda c: certification.envoyer_en_certification(c, actor()),
                         _("Le dossier est envoyé en certification."))

    @expose("/<int:pk>/annuler-envoi", methods=["POST"])
    @has_access
    def annuler_envoi(self, pk):
        """« Annuler l'envoi » with its motive (shown in the dossier's history)."""
        return self._act(pk, lambda c: certification.annuler_envoi(
            c, request.form.get("motif", ""), actor()),
            _("L'envoi en certification est annulé."))

    @expose("/<int:pk>/completer", methods=["POST"])
    @has_access
    def completer(self, pk):
        """« Candidature complétée »: the answer to the jury's complement request."""
        return self._act(pk, lambda c: certification.completer(c, request.form.get("reponse", ""),
                                                               actor()),
                         _("Le dossier complété retourne devant le jury."))

    @expose("/<int:pk>/reprendre", methods=["POST"])
    @has_access
    def reprendre(self, pk):
        """After « Non certifiée »: back to « En attente d'évaluation finale »."""
        require_tab()
        return self._act(pk, lambda c: certification.reprendre_parcours(c, actor()),
                         _("Le parcours reprend : enregistrez la formation suivie puis une "
                           "nouvelle évaluation finale."))

    @expose("/<int:pk>/certificat")
    @has_access
    def certificat(self, pk):
        from .certification import certificat_response

        candidature = perimeter.get_or_404(Candidature, pk, actor())
        certificat = certification.certificat_de(candidature)
        if certificat is None:
            abort(404)
        return certificat_response(certificat)

    @expose("/<int:pk>/credential")
    @has_access
    def credential(self, pk):
        """The certificate's Open Badges 3.0 credential (signed JSON-LD), to keep or to give
        to the holder for a wallet."""
        from .certification import credential_response

        candidature = perimeter.get_or_404(Candidature, pk, actor())
        certificat = certification.certificat_de(candidature)
        if certificat is None:
            abort(404)
        return credential_response(certificat)

    @expose("/<int:pk>/documents", methods=["POST"])
    @has_access
    def deposer(self, pk):
        """« Ajout de documents accompagnants » on the dossier."""
        require_tab()
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        from .evaluations import deposer_fichiers

        deposer_fichiers(candidature)
        return redirect(url_for("CandidatureView.fiche", pk=pk, _anchor="documents"))

    @expose("/document/<int:doc_id>/supprimer", methods=["POST"])
    @has_access
    def supprimer_document(self, doc_id):
        require_tab()
        document = db.session.get(Document, doc_id)
        if document is None:
            abort(404)
        try:
            documents.supprimer(document, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(_("Le document est supprimé ; sa suppression figure dans l'historique."),
                  "success")
        return redirect(url_for("CandidatureView.fiche", pk=document.candidature_id,
                                _anchor="documents"))

    def _form(self, dossier: bool = False):
        form = CandidatureForm.of_dossier() if dossier else CandidatureForm()
        form.fill_choices(actor())
        return form

    @expose("/nouvelle", methods=["GET", "POST"])
    @has_access
    def nouvelle(self):
        """« Proposer une candidature » (dashboard) / « Ajouter » (Évaluations tab)."""
        require_tab()
        form = self._form()
        homonymes = []
        if request.method == "GET":
            for key in ("nom_naissance", "prenoms"):
                if request.args.get(key):
                    form[key].data = request.args[key]
        if request.method == "POST" and form.validate():
            try:
                created = service.creer(form.values(), actor(),
                                        confirmer_homonymes=form.confirmer_homonymes.data)
            except service.HomonymeError as error:
                db.session.rollback()
                homonymes = error.homonymes
                form.confirmer_homonymes.errors = [error.message]  # the box to tick, below
            except ServiceError as error:
                db.session.rollback()
                show_service_error(form, error)
            else:
                flash(_("Le dossier de %(nom)s est créé.", nom=created.candidat.nom_complet),
                      "success")
                return redirect(url_for("CandidatureView.fiche", pk=created.id))
        return self.render_template("clea/candidatures/formulaire.html", form=form,
                                    homonymes=homonymes,
                                    title=_("Proposer une candidature"), candidature=None,
                                    socle_aide=_socle_aide(form))

    @expose("/<int:pk>")
    @has_access
    def fiche(self, pk, errors=None, saisie=None, status=200):
        """The page CANDIDAT; a refused form of the page (the abandon) comes back here with
        its errors and what was typed."""
        candidature = perimeter.get_or_404(Candidature, pk, actor(), *FICHE)
        user = actor()
        droits = (matrix.rights(user.role, "Candidature") if user.role
                  else {"create", "read", "update", "delete"})
        return self.render_template(
            "clea/candidatures/fiche.html", c=candidature, candidat=candidature.candidat,
            label=service.statut_label, motifs=service.MOTIFS_ABANDON, droits=droits,
            listes=service, abandonnable=candidature.statut in service.ABANDONABLE,
            evaluations=sorted(db.session.scalars(select(Evaluation).where(
                Evaluation.candidature_id == candidature.id)), key=lambda e: e.id),
            tab_open=peut_evaluer(user),
            manquants=(certification.champs_manquants(candidature)
                       if candidature.statut == C.A_ENVOYER else []),
            peut_annuler=certification.peut_annuler(candidature, user),
            suivi=certification.suivi(candidature),
            motif_annulation_min=certification.MOTIF_ANNULATION_MIN,
            decisions=certification.decisions(candidature),
            decision_labels=certification.DECISIONS, etat_envoi=envois.etat,
            certificat=certification.certificat_de(candidature),
            documents=list(db.session.scalars(select(Document).where(
                Document.candidature_id == candidature.id, Document.supprime_le.is_(None))
                .order_by(Document.id))),
            supprimable=service.supprimable(candidature),
            modifiable=service.modifiable(candidature, user),
            peut_ajouter_evaluation=evaluations.peut_ajouter(candidature),
            dossier_ferme=habilitations.refus_dossier(candidature),
            depot_refus=documents.refus_depot(candidature, user),
            document_supprimable=lambda document: documents.supprimable(document, user),
            journal=audit.du_dossier(candidature), action_label=audit.action_label,
            type_label=audit.type_label, changements=audit.changements,
            peut_exporter=rgpd.peut_exporter(candidature.candidat, user),
            anonymisation_refus=rgpd.refus_anonymisation(candidature.candidat, user),
            motif_anonymisation_min=rgpd.MOTIF_MIN,
            question_anonymisation=rgpd.question(candidature.candidat),
            errors=errors or {}, saisie=saisie or {}), status

    @expose("/<int:pk>/modifier", methods=["GET", "POST"])
    @has_access
    def modifier(self, pk):
        require_tab()
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        refus = service.refus_modification(candidature, actor())
        if refus is not None:
            # Said before any typing (the pencil is not offered then; an old link or a
            # bookmark lands here).
            flash(refus.message, "danger")
            return redirect(url_for("CandidatureView.fiche", pk=candidature.id))
        form = self._form(dossier=True)
        if request.method == "GET":
            for name in service.IDENTITY_FIELDS:
                form[name].data = getattr(candidature.candidat, name)
            for name in service.DOSSIER_FIELDS:
                value = getattr(candidature, name)
                form[name].data = value if isinstance(value, bool) else (
                    "" if value is None else str(value))
        elif form.validate():
            values = form.values()
            try:
                service.mise_a_jour(candidature, values, actor())
            except ServiceError as error:
                db.session.rollback()
                show_service_error(form, error)
            else:
                flash(_("Modifications enregistrées."), "success")
                return redirect(url_for("CandidatureView.fiche", pk=candidature.id))
        return self.render_template("clea/candidatures/formulaire.html", form=form, homonymes=[],
                                    candidature=candidature,
                                    title=_("Modifier le dossier"),
                                    socle_aide=_socle_aide(form, candidature))

    def _act(self, pk, command, message):
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        try:
            command(candidature)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(message, "success")
        return redirect(local_url(request.form.get("next"),
                                  url_for("CandidatureView.fiche", pk=candidature.id)))

    @expose("/<int:pk>/abandonner", methods=["POST"])
    @has_access
    def abandonner(self, pk):
        require_tab()
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        try:
            service.abandonner(candidature, request.form.get("motif", ""),
                               request.form.get("texte", ""), actor())
        except ServiceError as error:
            db.session.rollback()
            return self.fiche(pk, errors={error.field or "form": error.message},
                              saisie=request.form, status=400)
        flash(_("L'abandon du dossier est enregistré."), "success")
        return redirect(url_for("CandidatureView.fiche", pk=candidature.id))

    @expose("/<int:pk>/reintegrer", methods=["POST"])
    @has_access
    def reintegrer(self, pk):
        require_tab()
        return self._act(pk, lambda c: service.reintegrer(c, actor()),
                         _("Le dossier est réintégré."))

    @expose("/<int:pk>/supprimer", methods=["POST"])
    @has_access
    def supprimer(self, pk):
        require_tab()
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        try:
            service.supprimer(candidature, actor())
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
            return redirect(url_for("CandidatureView.fiche", pk=pk))
        flash(_("Le dossier est supprimé."), "success")
        return redirect(url_for("DossiersView.liste"))


class RechercheView(BaseView):
    """The magnifier of the header: national search by name, minimal identity fields."""

    route_base = "/recherche"
    default_view = "recherche"
    class_permission_name = "Candidature"
    method_permission_name = {"recherche": "read"}

    @expose("/")
    @has_access
    def recherche(self):
        terme = (request.args.get("q") or "").strip()
        results, message = [], None
        if terme:
            try:
                results = service.rechercher(terme, actor())
            except ServiceError as error:
                message = error.message
            else:
                if not results:
                    message = _("Aucun candidat.")
        dehors = [r.candidature.id for r in results if r.candidature and not r.dans_perimetre]
        return self.render_template("clea/candidatures/recherche.html", terme=terme,
                                    results=results, message=message,
                                    label=service.statut_label,
                                    peut_creer=peut_evaluer(actor()),
                                    can_rattacher=self.appbuilder.sm.has_access(
                                        "can_create", "Rattachement"),
                                    rattachable=rattachements.rattachable,
                                    en_attente=rattachements.en_attente(dehors),
                                    jeton=lambda pk: rattachements.jeton(pk, actor()))

