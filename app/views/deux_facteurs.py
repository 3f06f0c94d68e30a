"""Two-factor login screens: the second login step « Code de vérification » (after the
password), the profile's « Double authentification » pages (activation with the QR code,
recovery codes shown once, regeneration, disabling), Certif Pro's reset on a user's fiche, and
the guard that keeps a user who must enrol on the enrolment pages."""
from __future__ import annotations

import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models import Utilisateur
from app.security import perimeter
from app.services import deux_facteurs, sessions
from app.services.errors import ServiceError

from .confirmation import confirme, page_de_confirmation

CONNEXION = "clea_2fa_connexion"  # the half-logged state: {uid, t, essais, next}
# A session key's name, not a secret: the pending secret of an enrolment: {uid, secret}
SECRET = "clea_2fa_secret"  # nosec B105
CODES = "clea_2fa_codes"  # recovery codes to show once: {uid, codes}


# --- the login's second step -------------------------------------------------------------

def apres_mot_de_passe(user, next_url: str):
    """Called by the login page once the password is accepted. A user with two-factor login
    gets the « Code de vérification » page and no session yet; the others are logged in (a
    user who must enrol is then kept on the enrolment page by `garde`)."""
    session.pop(CONNEXION, None)
    if deux_facteurs.active(user):
        session[CONNEXION] = {"uid": user.id, "t": time.time(), "essais": 0, "next": next_url}
        return redirect(url_for("VerificationCodeView.code"))
    sessions.ouvrir_session(user)
    if deux_facteurs.enrolement_requis(user):
        return redirect(url_for("DeuxFacteursView.activer"))
    return redirect(next_url)


def _connexion_en_cours():
    """The half-logged user, or None (no password step, expired, or too many tries)."""
    etat = session.get(CONNEXION)
    if not etat:
        return None
    if time.time() - etat.get("t", 0) > current_app.config["CLEA_2FA_LOGIN_SECONDS"]:
        session.pop(CONNEXION, None)
        return None
    user = db.session.get(Utilisateur, etat.get("uid"))
    if user is None or not user.is_active or not deux_facteurs.active(user):
        session.pop(CONNEXION, None)
        return None
    return user


class VerificationCodeView(BaseView):
    """« Code de vérification »: public (the user is not logged in yet), rate-limited like
    the login, valid for CLEA_2FA_LOGIN_SECONDS and CLEA_2FA_MAX_TRIES codes."""

    route_base = "/connexion"
    default_view = "code"

    def _retour_connexion(self, message):
        session.pop(CONNEXION, None)
        flash(message, "warning")
        return redirect(self.appbuilder.get_url_for_login)

    @expose("/code", methods=["GET", "POST"])
    def code(self):
        user = _connexion_en_cours()
        if user is None:
            return self._retour_connexion(_(
                "Votre connexion a expiré : saisissez de nouveau votre identifiant et votre "
                "mot de passe."))
        secours = request.values.get("secours") == "1"
        erreur = None
        if request.method == "POST":
            etat = dict(session[CONNEXION])
            if deux_facteurs.trop_d_essais(user):
                return self._retour_connexion(deux_facteurs.message_trop_d_essais())
            try:
                deux_facteurs.verifier(user, request.form.get("code", ""))
            except ServiceError as error:
                etat["essais"] = etat.get("essais", 0) + 1
                session[CONNEXION] = etat
                if etat["essais"] >= current_app.config["CLEA_2FA_MAX_TRIES"]:
                    return self._retour_connexion(deux_facteurs.message_trop_d_essais())
                erreur = error.message
            else:
                session.pop(CONNEXION, None)
                sessions.ouvrir_session(user)
                return redirect(etat.get("next") or self.appbuilder.get_url_for_index)
        return self.render_template("clea/deux_facteurs_code.html", secours=secours,
                                    erreur=erreur, title=_("Code de vérification")), (
            400 if erreur else 200)


# --- the profile's pages -----------------------------------------------------------------

def _a_moi(cle):
    """A value kept in the session for the logged-in user only."""
    valeur = session.get(cle)
    if valeur and valeur.get("uid") == current_user.id:
        return valeur
    return None


class DeuxFacteursView(BaseView):
    """/profil/deux-facteurs/…: every business role has them (the matrix's « Profil »)."""

    route_base = "/profil/deux-facteurs"
    default_view = "activer"
    class_permission_name = "Profil"
    method_permission_name = {"activer": "update", "codes": "read", "codes_notes": "update",
                              "regenerer": "update", "desactiver": "update"}

    def _profil(self):
        return redirect(url_for("ProfilView.profil", onglet="deux-facteurs"))

    @expose("/activer", methods=["GET", "POST"])
    @has_access
    def activer(self):
        if deux_facteurs.active(current_user):
            flash(_("La double authentification est déjà activée sur votre compte."), "info")
            return self._profil()
        attente = _a_moi(SECRET)
        if attente is None or request.method == "GET" and request.args.get("nouveau") == "1":
            attente = {"uid": current_user.id, "secret": deux_facteurs.nouveau_secret()}
            session[SECRET] = attente
        erreur = None
        if request.method == "POST":
            try:
                codes = deux_facteurs.confirmer(current_user, attente["secret"],
                                                request.form.get("code", ""))
            except ServiceError as error:
                db.session.rollback()
                erreur = error.message
            else:
                session.pop(SECRET, None)
                session[CODES] = {"uid": current_user.id, "codes": codes}
                flash(_("La double authentification est activée : chaque connexion vous "
                        "demandera un code de votre application."), "success")
                return redirect(url_for("DeuxFacteursView.codes"))
        secret = attente["secret"]
        return self.render_template(
            "clea/deux_facteurs_activer.html", title=_("Activer la double authentification"),
            qr=deux_facteurs.qr_svg(deux_facteurs.uri(current_user, secret)),
            secret=deux_facteurs.secret_lisible(secret), erreur=erreur,
            obligatoire=deux_facteurs.enrolement_requis(current_user)), 400 if erreur else 200

    @expose("/codes-de-secours")
    @has_access
    def codes(self):
        """The recovery codes, shown until « J'ai noté mes codes » (then never again)."""
        montres = _a_moi(CODES)
        if montres is None:
            flash(_("Vos codes de secours ne sont montrés qu'une fois. Pour en obtenir de "
                    "nouveaux, utilisez « Régénérer les codes de secours »."), "info")
            return self._profil()
        return self.render_template("clea/deux_facteurs_codes.html",
                                    title=_("Vos codes de secours"), codes=montres["codes"])

    @expose("/codes-notes", methods=["POST"])
    @has_access
    def codes_notes(self):
        session.pop(CODES, None)
        flash(_("Vos codes de secours ne seront plus affichés. Gardez-les en lieu sûr."),
              "success")
        return self._profil()

    def _avec_preuve(self, action, titre, bouton, texte, style):
        """Régénérer / Désactiver: a page asking for the password or a code."""
        erreur = None
        if request.method == "POST":
            try:
                resultat = action(request.form.get("preuve", ""))
            except ServiceError as error:
                db.session.rollback()
                erreur = error.message
            else:
                return resultat
        return self.render_template("clea/deux_facteurs_preuve.html", title=titre,
                                    titre=titre, bouton=bouton, texte=texte, style=style,
                                    erreur=erreur), 400 if erreur else 200

    @expose("/regenerer", methods=["GET", "POST"])
    @has_access
    def regenerer(self):
        def action(preuve):
            codes = deux_facteurs.regenerer_codes(current_user, preuve)
            session[CODES] = {"uid": current_user.id, "codes": codes}
            flash(_("Vos nouveaux codes de secours sont prêts : les anciens ne servent plus."),
                  "success")
            return redirect(url_for("DeuxFacteursView.codes"))
        if not deux_facteurs.active(current_user):
            return self._profil()
        return self._avec_preuve(
            action, _("Régénérer les codes de secours"), _("Régénérer les codes de secours"),
            _("Dix nouveaux codes de secours remplacent les anciens, qui ne serviront plus. "
              "Confirmez avec votre mot de passe actuel ou un code de votre application."),
            "btn-primary")

    @expose("/desactiver", methods=["GET", "POST"])
    @has_access
    def desactiver(self):
        def action(preuve):
            deux_facteurs.desactiver(current_user, preuve)
            flash(_("La double authentification est désactivée : votre mot de passe suffit "
                    "de nouveau pour vous connecter."), "success")
            return self._profil()
        if not deux_facteurs.peut_desactiver(current_user):
            return self._profil()
        return self._avec_preuve(
            action, _("Désactiver la double authentification"), _("Désactiver"),
            _("Votre mot de passe suffira de nouveau pour vous connecter, et vos codes de "
              "secours ne serviront plus. Confirmez avec votre mot de passe actuel ou un code "
              "de votre application."), "btn-danger")


# --- Certif Pro's reset (a user's fiche in « Mes utilisateurs ») ---------------------------

class DeuxFacteursGestionView(BaseView):
    """POST /deux-facteurs/reinitialiser/<id>: the matrix's « DeuxFacteurs » update right
    (Certif Pro), on a user of the perimeter (404 outside), after a confirmation."""

    route_base = "/deux-facteurs"
    class_permission_name = deux_facteurs.RESOURCE
    method_permission_name = {"reinitialiser": "update"}

    @expose("/reinitialiser/<int:pk>", methods=["POST"])
    @has_access
    def reinitialiser(self, pk):
        from app.security.perimeter import actor

        by = actor()
        target = perimeter.get_or_404(Utilisateur, pk, by)
        fiche = url_for("UtilisateurView.show", pk=target.id)
        if not confirme():
            return page_de_confirmation(
                self, _("Réinitialiser la double authentification"),
                _("Son application d'authentification et ses codes de secours ne serviront "
                  "plus ; l'utilisateur en est informé par e-mail et active de nouveau la "
                  "double authentification à sa prochaine connexion."),
                url_for("DeuxFacteursGestionView.reinitialiser", pk=target.id),
                _("Réinitialiser"), fiche, detail=str(target), style="btn-danger")
        try:
            deux_facteurs.reinitialiser(target, by)
        except ServiceError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(_("La double authentification de %(nom)s est réinitialisée ; un e-mail l'en "
                    "informe.", nom=str(target)), "success")
        return redirect(fiche)


# --- the guard ---------------------------------------------------------------------------

# What a user who must enrol may still reach: the enrolment pages, logging out, the assets.
OUVERT_AVANT_ENROLEMENT = {"DeuxFacteursView.activer", "DeuxFacteursView.codes",
                           "DeuxFacteursView.codes_notes", "static", "appbuilder.static"}


def garde():
    """Before each request: a Certif Pro or Administrateur réseau who must enrol
    (CLEA_2FA_REQUIRED) and has not is sent to the enrolment page, whatever they ask for."""
    if not current_app.config.get("CLEA_2FA_REQUIRED"):
        return None
    endpoint = request.endpoint or ""
    if endpoint in OUVERT_AVANT_ENROLEMENT or endpoint.endswith(".logout"):
        return None
    if not current_user.is_authenticated or not deux_facteurs.enrolement_requis(current_user):
        return None
    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify(message=deux_facteurs.message_enrolement_requis()), 403
    flash(deux_facteurs.message_enrolement_requis(), "warning")
    return redirect(url_for("DeuxFacteursView.activer"))


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(VerificationCodeView)
    appbuilder.add_view_no_menu(DeuxFacteursView)
    appbuilder.add_view_no_menu(DeuxFacteursGestionView)
    sm = appbuilder.sm
    verification = next(v for v in appbuilder.baseviews if isinstance(v, VerificationCodeView))
    if sm.is_auth_limited:  # the code page is limited like the login page
        sm.limiter.limit(sm.auth_rate_limit, methods=["POST"])(verification.blueprint)
    current_app.before_request(garde)
