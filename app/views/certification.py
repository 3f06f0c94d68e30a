"""Certification screens (guide §7, §18–§20): the juries' calendar (Certification tab), the
sessions of a jury and its work screen (the read-only dossier and the decision), certificates
(download, signed PDF), shipments of paper certificates, and the public verification page.
Thin: services.certification holds every rule."""
from __future__ import annotations

import datetime as dt
import json

from flask import abort, flash, jsonify, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app import telechargement
from app.extensions import db
from app.models.candidature import Candidature
from app.models.jury import (EMPLOYEURS, SALARIES, Certificat, EnvoiCertificat, LotEnvoi,
                             SessionJury)
from app.security import perimeter
from app.security.perimeter import actor
from app.services import audit
from app.services import candidatures as dossiers
from app.services import documents
from app.services import certification as service
from app.services import credential, envois, motifs, signature
from app.services.errors import ServiceError

def _pdf(content: bytes, name: str):
    return telechargement.fichier(content, name, "application/pdf")


def certificat_response(certificat: Certificat):
    """The certificate PDF as a download (the caller checked the perimeter)."""
    audit.consigner(actor(), "telecharger_certificat", certificat, certificat.numero)
    return _pdf(service.certificat_pdf(certificat), f"{certificat.numero}.pdf")


def credential_response(certificat: Certificat):
    """The certificate's signed credential as a JSON-LD download (the caller checked the
    perimeter)."""
    audit.consigner(actor(), "telecharger_credential", certificat, certificat.numero)
    contenu = json.dumps(credential.credential(certificat), ensure_ascii=False, indent=2)
    return telechargement.fichier(contenu.encode("utf-8"), f"{certificat.numero}.json",
                                  "application/ld+json")


def _run(command, message):
    """Run a service command; a refusal is flashed in French and nothing is kept."""
    try:
        result = command()
    except ServiceError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return False
    flash(message if isinstance(message, str) else message(result), "success")
    return True


class CalendrierView(BaseView):
    """Certification tab: the last and next sessions of the user's juries."""

    route_base = "/certification"
    default_view = "calendrier"
    class_permission_name = "Calendrier"
    method_permission_name = {"calendrier": "read"}

    @expose("/")
    @has_access
    def calendrier(self):
        passees, prochaines = service.calendrier(actor())
        return self.render_template("clea/certification/calendrier.html", passees=passees,
                                    prochaines=prochaines, modes=service.MODES,
                                    en_attente=service.en_attente_affectation(actor()))


class SessionsJuryView(BaseView):
    """Sessions de jury: Certif Pro and the certificateur's jury."""

    route_base = "/jury"
    default_view = "liste"
    class_permission_name = "SessionJury"
    method_permission_name = {
        "liste": "read", "nouvelle": "create", "session": "read", "ouvrir": "update",
        "cloturer": "update", "membre": "update", "modifier": "update", "annuler": "update",
        "retirer_membre": "update", "deplacer": "update", "proces_verbal": "read",
        "dossier_de_seance": "read",
        "dossier": "read",
        "decision": "update", "vote": "update", "document": "read", "certificat": "read",
        "certificat_signe": "update"}

    @expose("/")
    @has_access
    def liste(self):
        statut = request.args.get("statut", "")
        sessions, counts = service.sessions(actor(), statut, request.args.get("page"))
        return self.render_template("clea/certification/sessions.html", sessions=sessions,
                                    counts=counts, statut=statut,
                                    statut_session=service.statut_session,
                                    modes=service.MODES)

    @expose("/nouvelle", methods=["GET", "POST"])
    @has_access
    def nouvelle(self):
        form, errors = request.form, {}
        if request.method == "POST":
            membres = [{"nom": (form.get(f"membre_nom_{i}") or "").strip(),
                        "college": form.get(f"membre_college_{i}")} for i in range(8)]
            data = {"certificateur_id": form.get("certificateur_id"),
                    "date_session": form.get("date_session"),
                    "date_limite": form.get("date_limite"), "mode": form.get("mode"),
                    "lieu": form.get("lieu"), "membres": [m for m in membres if m["nom"]]}
            try:
                session = service.creer_session(data, actor())
            except ServiceError as error:
                db.session.rollback()
                errors[error.field or "form"] = error.message
            else:
                flash(_("La session du %(date)s est créée. Ouvrez-la quand le jury est "
                        "paritaire.", date=session.date_session.strftime("%d/%m/%Y")), "success")
                return redirect(url_for("SessionsJuryView.session", pk=session.id))
        return self.render_template("clea/certification/session_form.html",
                                    certificateurs=service.certificateurs_geres(actor()), form=form,
                                    employeurs=EMPLOYEURS, salaries=SALARIES,
                                    colleges=service.COLLEGES, today=dt.date.today(),
                                    errors=errors), 400 if errors else 200

    @expose("/session/<int:pk>")
    @has_access
    def session(self, pk):
        session = perimeter.get_or_404(SessionJury, pk, actor())
        dossiers_ = service.dossiers_de_session(session)
        modifier = service.peut_modifier(session, actor())
        return self.render_template(
            "clea/certification/session.html", s=session, dossiers=dossiers_,
            statut_session=service.statut_session, modes=service.MODES,
            colleges=service.COLLEGES,
            label=dossiers.statut_label, en_attente=service.en_attente_de_decision,
            gerer=service.peut_gerer_sessions(actor(), session.certificateur_id),
            commencee=service.session_commencee(session),
            peut_cloturer=service.peut_cloturer(session, actor()),
            sans_decision=sum(1 for d in dossiers_ if service.en_attente_de_decision(d, session)),
            certificats=service.certificats_par_dossier(dossiers_),
            employeurs=EMPLOYEURS, salaries=SALARIES,
            peut_modifier=modifier,
            peut_annuler=modifier and service.peut_annuler_session(session, actor()),
            motif_annulation_min=service.MOTIF_ANNULATION_MIN,
            destinations=service.autres_sessions_ouvertes(session) if modifier else [],
            comptes=service.comptes_jury(session) if modifier else [])

    @expose("/session/<int:pk>/modifier", methods=["GET", "POST"])
    @has_access
    def modifier(self, pk):
        session = perimeter.get_or_404(SessionJury, pk, actor())
        if not service.peut_modifier(session, actor()):
            flash(_("Cette session ne se modifie plus."), "warning")
            return redirect(url_for("SessionsJuryView.session", pk=pk))
        errors, form = {}, request.form
        if request.method == "POST":
            try:
                service.modifier_session(session, form, actor())
            except ServiceError as error:
                db.session.rollback()
                errors[error.field or "form"] = error.message
            else:
                flash(_("La session est modifiée."), "success")
                return redirect(url_for("SessionsJuryView.session", pk=pk))
        return self.render_template(
            "clea/certification/session_modifier.html", s=session, form=form, errors=errors,
            affectes=service.nombre_affectes(session)), 400 if errors else 200

    @expose("/session/<int:pk>/annuler", methods=["POST"])
    @has_access
    def annuler(self, pk):
        return self._session_command(pk, lambda s: service.annuler_session(
            s, request.form.get("motif", ""), actor()),
            lambda n: _("La session est annulée ; %(n)d dossier(s) retournent en attente "
                        "d'affectation ou passent à la session suivante.", n=n))

    @expose("/session/<int:pk>/membre/<int:membre>/retirer", methods=["POST"])
    @has_access
    def retirer_membre(self, pk, membre):
        return self._session_command(pk, lambda s: service.retirer_membre(s, membre, actor()),
                                     _("Le membre est retiré du jury."))

    @expose("/dossier/<int:pk>/deplacer", methods=["POST"])
    @has_access
    def deplacer(self, pk):
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        session_id = candidature.session_jury_id
        _run(lambda: service.deplacer_dossier(candidature, request.form.get("session_id"),
                                              actor()),
             _("Le dossier est déplacé vers l'autre session."))
        if session_id:
            return redirect(url_for("SessionsJuryView.session", pk=session_id))
        return redirect(url_for("SessionsJuryView.dossier", pk=pk))

    def _session_command(self, pk, command, message):
        session = perimeter.get_or_404(SessionJury, pk, actor())
        _run(lambda: command(session), message)
        return redirect(url_for("SessionsJuryView.session", pk=pk))

    @expose("/session/<int:pk>/ouvrir", methods=["POST"])
    @has_access
    def ouvrir(self, pk):
        return self._session_command(pk, lambda s: service.ouvrir_session(s, actor()),
                                     lambda n: _("La session est ouverte ; %(n)d dossier(s) en "
                                                 "attente lui ont été affectés.", n=n))

    @expose("/session/<int:pk>/cloturer", methods=["POST"])
    @has_access
    def cloturer(self, pk):
        return self._session_command(pk, lambda s: service.cloturer_session(s, actor()),
                                     _("La session est close ; le procès-verbal est disponible."))

    @expose("/session/<int:pk>/membre", methods=["POST"])
    @has_access
    def membre(self, pk):
        return self._session_command(pk, lambda s: service.ajouter_membre(
            s, request.form.get("nom", ""), request.form.get("college", ""), actor(),
            user_id=request.form.get("user_id") or None,
            president=request.form.get("president") == "1"),
            _("Le membre est ajouté au jury."))

    @expose("/session/<int:pk>/proces-verbal")
    @has_access
    def proces_verbal(self, pk):
        session = perimeter.get_or_404(SessionJury, pk, actor())
        content = service.proces_verbal(session)
        if content is None:
            abort(404)
        audit.consigner(actor(), "telecharger_proces_verbal", session)
        return _pdf(content, f"proces-verbal-{session.date_session.isoformat()}.pdf")

    @expose("/session/<int:pk>/dossier-de-seance")
    @has_access
    def dossier_de_seance(self, pk):
        """Every dossier of the session in one PDF, for members who work on paper."""
        session = perimeter.get_or_404(SessionJury, pk, actor())
        content = service.dossier_de_seance(session)
        audit.consigner(actor(), "telecharger_dossier_de_seance", session)
        return _pdf(content, f"dossier-de-seance-{session.date_session.isoformat()}.pdf")

    @expose("/dossier/<int:pk>")
    @has_access
    def dossier(self, pk, errors=None, saisie=None, status=200):
        """The full file, read-only, with the decision form (a refused decision comes back
        here with its errors and what was chosen and typed)."""
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        votes = service.votes_affiches(candidature)
        return self.render_template(
            "clea/certification/dossier.html", c=candidature, candidat=candidature.candidat,
            label=dossiers.statut_label, listes=dossiers, decisions=service.decisions(candidature),
            decision_labels=service.DECISIONS, certificat=service.certificat_de(candidature),
            jury_session=candidature.session_jury,
            peut_decider=service.peut_decider(candidature, actor()),
            peut_voter=service.peut_voter(candidature, actor()),
            motifs_types=motifs.proposes(motifs.JURY),
            votes=votes, colleges=service.COLLEGES,
            mon_vote=votes.de(actor()) if votes else None,
            decision_ouvre_le=service.decision_ouvre_le(candidature, actor()),
            seance=service.seance(candidature),
            errors=errors or {}, saisie=saisie or {},
            **service.dossier_complet(candidature)), status

    @expose("/dossier/<int:pk>/decision", methods=["POST"])
    @has_access
    def decision(self, pk):
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        session_id = candidature.session_jury_id
        try:
            decision = service.decider(candidature, request.form.get("decision", ""),
                                       request.form.get("motif", ""), actor(),
                                       motif_type=request.form.get("motif_type"))
        except ServiceError as error:
            db.session.rollback()
            return self.dossier(pk, errors={error.field or "form": error.message},
                                saisie=request.form, status=400)
        flash(_("Décision enregistrée : %(decision)s.",
                decision=service.DECISIONS[decision.decision]), "success")
        if session_id:
            return redirect(url_for("SessionsJuryView.session", pk=session_id))
        return redirect(url_for("SessionsJuryView.dossier", pk=pk))

    @expose("/dossier/<int:pk>/vote", methods=["POST"])
    @has_access
    def vote(self, pk):
        candidature = perimeter.get_or_404(Candidature, pk, actor())
        try:
            service.voter(candidature, request.form.get("vote", ""),
                          request.form.get("vote_motif", ""), actor())
        except ServiceError as error:
            db.session.rollback()
            field = {"motif": "vote_motif"}.get(error.field, error.field)
            return self.dossier(pk, errors={field or "form": error.message},
                                saisie=request.form, status=400)
        flash(_("Votre vote est enregistré."), "success")
        return redirect(url_for("SessionsJuryView.dossier", pk=pk))

    @expose("/document/<int:pk>")
    @has_access
    def document(self, pk):
        from .evaluations import document_response

        return document_response(pk)

    @expose("/certificat/<int:pk>")
    @has_access
    def certificat(self, pk):
        return certificat_response(perimeter.get_or_404(Certificat, pk, actor()))

    @expose("/certificat/<int:pk>/signe", methods=["POST"])
    @has_access
    def certificat_signe(self, pk):
        certificat = perimeter.get_or_404(Certificat, pk, actor())
        fichier = request.files.get("fichier")
        if not fichier or not fichier.filename:
            flash(_("Choisissez le certificat signé (PDF) à déposer."), "danger")
        else:
            _run(lambda: service.deposer_certificat_signe(certificat, fichier.filename,
                                                          fichier.read(), actor()),
                 _("Le certificat signé remplace le certificat généré."))
        return redirect(url_for("SessionsJuryView.dossier", pk=certificat.candidature_id))


class EnvoisView(BaseView):
    """Envois de certificats (Certif Pro): the paper certificates to post, the returned letters
    to post again, the batches and their letters, the addresses."""

    route_base = "/envois"
    default_view = "liste"
    class_permission_name = "EnvoiCertificat"
    method_permission_name = {"liste": "read", "enregistrer": "create", "export_lot": "read",
                              "lot": "read", "retour": "update", "reexpedier": "create"}

    @expose("/")
    @has_access
    def liste(self):
        return self.render_template(
            "clea/certification/envois.html",
            a_expedier=envois.page_a_expedier(request.args.get("page")),
            retours=envois.retours_a_traiter(request.args.get("retours")),
            lots=envois.lots(request.args.get("lots")), today=dt.date.today(),
            etat=envois.etat, retour_label=envois.retour_label,
            motif_renvoi_min=envois.MOTIF_RENVOI_MIN)

    @expose("/", methods=["POST"])
    @has_access
    def enregistrer(self):
        ids = request.form.getlist("certificat")
        if request.form.get("export"):
            return self._xlsx(envois.a_expedier(ids), "adresses-certificats.xlsx",
                              _("Adresses des certificats à expédier (cochés)") if ids
                              else _("Adresses des certificats à expédier"))
        suivis = {key[len("suivi_"):]: value for key, value in request.form.items()
                  if key.startswith("suivi_") and key[len("suivi_"):] in ids}
        _run(lambda: envois.enregistrer_envois(ids, request.form.get("date_envoi"), actor(),
                                               suivis=suivis),
             lambda lot: _("Envoi enregistré : lot n° %(lot)d du %(date)s.", lot=lot.id,
                           date=lot.date_envoi.strftime("%d/%m/%Y")))
        return redirect(url_for("EnvoisView.liste"))

    @expose("/lot/<int:pk>")
    @has_access
    def lot(self, pk):
        """A batch's letters: their address, tracking number and state; « Signaler un
        retour » on each letter still out."""
        lot = perimeter.get_or_404(LotEnvoi, pk, actor())
        return self.render_template(
            "clea/certification/lot.html", lot=lot,
            rows=envois.envois_du_lot(lot.id, request.args.get("page")), etat=envois.etat,
            peut_signaler_retour=envois.peut_signaler_retour, retours=envois.RETOURS,
            today=dt.date.today())

    @expose("/envoi/<int:pk>/retour", methods=["POST"])
    @has_access
    def retour(self, pk):
        envoi = perimeter.get_or_404(EnvoiCertificat, pk, actor())
        _run(lambda: envois.signaler_retour(envoi, request.form, actor()),
             _("Retour enregistré : les gestionnaires du dossier sont prévenus de vérifier "
               "l'adresse. Le certificat est dans « Retours à réexpédier »."))
        return redirect(url_for("EnvoisView.lot", pk=envoi.lot_id))

    @expose("/envoi/<int:pk>/reexpedier", methods=["POST"])
    @has_access
    def reexpedier(self, pk):
        envoi = perimeter.get_or_404(EnvoiCertificat, pk, actor())
        _run(lambda: envois.reexpedier(envoi, request.form, actor()),
             lambda nouveau: _("Certificat n° %(numero)s réexpédié le %(date)s (lot n° "
                               "%(lot)d).", numero=envoi.certificat.numero,
                               date=nouveau.date_envoi.strftime("%d/%m/%Y"), lot=nouveau.lot_id))
        return redirect(url_for("EnvoisView.liste", _anchor="clea-retours"))

    @staticmethod
    def _xlsx(certificats, name, quoi):
        import io

        audit.consigner(actor(), "exporter_adresses", None,
                        ", ".join(c.numero for c in certificats)[:2000] or None)
        return send_file(io.BytesIO(envois.export_adresses(certificats, actor(), quoi)),
                         as_attachment=True,
                         download_name=name, mimetype="application/vnd.openxmlformats-"
                         "officedocument.spreadsheetml.sheet")

    @expose("/lot/<int:pk>/export")
    @has_access
    def export_lot(self, pk):
        lot = perimeter.get_or_404(LotEnvoi, pk, actor())
        return self._xlsx(envois.certificats_du_lot(lot.id), f"lot-{lot.id}-adresses.xlsx",
                          _("Adresses du lot n° %(lot)d du %(date)s", lot=lot.id,
                            date=lot.date_envoi.strftime("%d/%m/%Y")))


class EmetteurView(BaseView):
    """Public: Certif Pro's issuer profile (Open Badges 3.0 Profile), with the key that signs
    the credentials, which a verifier reads to check one without an account."""

    route_base = "/issuer"
    default_view = "profil"

    @expose("/")
    def profil(self):
        response = jsonify(credential.profil_emetteur())
        response.mimetype = "application/ld+json"
        response.headers["Access-Control-Allow-Origin"] = "*"  # any verifier may read it
        return response


class VerifierView(BaseView):
    """Public page (no login): is this certificate number genuine? Name and date only."""

    route_base = "/verifier"
    default_view = "formulaire"

    @expose("/")
    def formulaire(self):
        numero = (request.args.get("numero") or "").strip()
        if numero:
            return redirect(url_for("VerifierView.verifier", numero=numero[:40]))
        return self.render_template("clea/certification/verifier.html", numero="",
                                    resultat=None, cherche=False)

    @expose("/fichier", methods=["POST"])
    def fichier(self):
        """« Vérifier un fichier »: the certificate's PDF or its credential, checked and
        forgotten (never stored)."""
        envoi = request.files.get("fichier")
        resultat, erreur = None, None
        try:  # read one byte past the limit: the service refuses what is over it
            resultat = service.verifier_fichier(
                envoi.read(documents.MAX_BYTES + 1) if envoi else b"")
        except ServiceError as error:
            erreur = error.message
        return self.render_template("clea/certification/verifier.html", numero="",
                                    resultat=None, cherche=False, fichier=resultat,
                                    erreur_fichier=erreur), 200 if not erreur else 400

    @expose("/<numero>")
    def verifier(self, numero):
        resultat = service.verifier(numero)
        return self.render_template("clea/certification/verifier.html", numero=numero[:40],
                                    resultat=resultat, cherche=True,
                                    developpement=resultat is not None
                                    and signature.est_de_developpement()), \
            (200 if resultat else 404)
