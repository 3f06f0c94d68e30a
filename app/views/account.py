"""Account pages: "Mot de passe oublié", first connection and reset links (public), and the
profile pop-up (personal data, password, notification choice, state of the two-factor login,
whose pages are in views/deux_facteurs.py)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.security import roles as R
from app.security.redirects import local_url
from app.services import accounts, deux_facteurs, notifications, passwords, sessions
from app.services.errors import ServiceError


class CompteView(BaseView):
    """Public pages reached from the login page or from an e-mailed link."""

    route_base = "/compte"
    default_view = "mot_de_passe_oublie"

    @expose("/mot-de-passe-oublie", methods=["GET", "POST"])
    def mot_de_passe_oublie(self):
        if request.method == "POST":
            accounts.request_password_reset(request.form.get("login", ""),
                                            request.remote_addr or "")
            flash(_("Si un compte correspond à cet identifiant, un e-mail contenant un lien de "
                    "réinitialisation vient de lui être envoyé. Le lien est valable %(h)d heures "
                    "et ne sert qu'une fois.", h=current_app.config["CLEA_RESET_HOURS"]), "info")
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("clea/mot_de_passe_oublie.html")

    def _set_password(self, token, purpose_title):
        valid = accounts.find_valid_token(token) is not None
        errors = {}
        if request.method == "POST" and valid:
            try:
                accounts.set_password_with_token(token, request.form.get("password", ""),
                                                 request.form.get("confirm", ""))
            except ServiceError as error:
                db.session.rollback()
                errors[error.field or "password"] = error.message
                valid = accounts.find_valid_token(token) is not None
            else:
                flash(_("Votre mot de passe est enregistré. Vous pouvez vous connecter."),
                      "success")
                return redirect(self.appbuilder.get_url_for_login)
        status = 200 if valid else 410
        return self.render_template("clea/definir_mot_de_passe.html", valid=valid,
                                    errors=errors, page_title=purpose_title,
                                    regle_mdp=passwords.regle(),
                                    invalid_message=accounts.invalid_link_message()), status

    @expose("/activer/<token>", methods=["GET", "POST"])
    def activer(self, token):
        return self._set_password(token, _("Activer mon compte"))

    @expose("/reinitialiser/<token>", methods=["GET", "POST"])
    def reinitialiser(self, token):
        return self._set_password(token, _("Choisir un nouveau mot de passe"))


class ProfilView(BaseView):
    """« Mon profil »: a page (/profil/, also without JavaScript), and the pop-up of the user
    menu, which loads the form alone (?fragment=1) and posts its forms with fragment=1: the
    answer is then the form again, with its errors or its success message."""

    route_base = "/profil"
    default_view = "profil"
    class_permission_name = "Profil"
    method_permission_name = {"profil": "read", "enregistrer": "update",
                              "mot_de_passe": "update", "preferences": "update",
                              "deconnecter_partout": "update"}

    @staticmethod
    def _fragment() -> bool:
        return request.values.get("fragment") == "1"

    def _render(self, errors=None, tab="infos", status=200, saisie=None, succes=None):
        context = {"errors": errors or {}, "tab": tab, "saisie": saisie or {},
                   "succes": succes, "clea_profile": _profile_data(current_user),
                   "sessions_ouvertes": sessions.ouvertes(current_user),
                   "regle_mdp": passwords.regle()}
        if self._fragment():
            return render_template("clea/_profil_form.html", prefix="modal",
                                   appbuilder=self.appbuilder, **context), status
        return self.render_template("clea/profil.html", prefix="page", **context), status

    def _done(self, message, tab):
        """After a save: the pop-up shows the form again with the message; the page
        redirects (to the page the form came from)."""
        if self._fragment():
            return self._render(tab=tab, succes=message)
        flash(message, "success")
        return redirect(local_url(request.form.get("next"), url_for("ProfilView.profil")))

    @expose("/notifications", methods=["POST"])
    @has_access
    def preferences(self):
        notifications.set_preferences(current_user, {
            code: bool(request.form.get(f"email_{code}")) for code in notifications.RUBRIQUES})
        if _is_reseau(current_user):
            accounts.update_profile(current_user, {"notifier_nouvelle_candidature": bool(
                request.form.get("notifier_nouvelle_candidature"))})
        return self._done(_("Vos préférences de notification sont enregistrées."),
                          "notifications")

    @expose("/deconnecter-partout", methods=["POST"])
    @has_access
    def deconnecter_partout(self):
        """« Se déconnecter de tous les appareils »: this browser too, then the login page."""
        sessions.deconnecter_partout(current_user)
        message = _("Vous êtes déconnecté de tous les appareils. Reconnectez-vous pour "
                    "continuer.")
        if self._fragment():  # the pop-up shows the message; the next page asks to log in
            return self._render(tab="sessions", succes=message)
        flash(message, "success")
        return redirect(self.appbuilder.get_url_for_login)

    @expose("/")
    @has_access
    def profil(self):
        onglet = request.args.get("onglet")
        return self._render(tab=onglet if onglet in ONGLETS else "infos")

    @expose("/enregistrer", methods=["POST"])
    @has_access
    def enregistrer(self):
        data = {k: request.form.get(k, "") for k in ("first_name", "last_name", "email",
                                                      "telephone")}
        try:
            accounts.update_profile(current_user, data)
        except ServiceError as error:
            db.session.rollback()
            return self._render({error.field or "form": error.message}, saisie=data,
                                status=400)
        return self._done(_("Vos informations sont enregistrées."), "infos")

    @expose("/mot-de-passe", methods=["POST"])
    @has_access
    def mot_de_passe(self):
        try:
            accounts.change_password(current_user, request.form.get("current", ""),
                                     request.form.get("password", ""),
                                     request.form.get("confirm", ""))
        except ServiceError as error:
            db.session.rollback()
            return self._render({error.field or "password": error.message}, tab="password",
                                status=400)
        return self._done(_("Votre mot de passe est modifié."), "password")


ONGLETS = ("infos", "password", "notifications", "sessions", "deux-facteurs")


def _profile_data(user) -> dict:
    """What the profile form needs besides the user: the notification choices and the state
    of the two-factor login."""
    config = deux_facteurs.configuration(user)
    return {"is_reseau": _is_reseau(user), "preferences": notifications.preferences(user),
            "rubriques": notifications.RUBRIQUES,
            "deux_facteurs": {"active_le": config.active_le if config else None,
                              "codes_restants": deux_facteurs.codes_restants(user) if config
                              else 0,
                              "obligatoire": deux_facteurs.obligatoire(user),
                              "peut_desactiver": deux_facteurs.peut_desactiver(user)}}


def _is_reseau(user) -> bool:
    role = R.role_of(user)
    return role is not None and role.scope == R.RESEAU


def register_error_pages(app):
    from flask import jsonify

    def handler(code, message):
        def handle(error):
            text = getattr(error, "clea_message", None) or message()
            if request.path.startswith("/api/"):
                return jsonify(message=text), code
            return render_template("clea/erreur.html", code=code, message=text,
                                   base_template=app.appbuilder.base_template,
                                   appbuilder=app.appbuilder), code
        return handle

    app.register_error_handler(404, handler(404, lambda: _("Page introuvable : elle n'existe "
                                                           "pas ou n'est pas dans votre périmètre.")))
    app.register_error_handler(403, handler(403, lambda: _("Accès refusé : votre rôle ne "
                                                           "permet pas d'ouvrir cette page.")))
    app.register_error_handler(410, handler(410, lambda: _("Ce lien n'est plus valide.")))
    app.register_error_handler(429, handler(429, lambda: _("Trop de tentatives : patientez "
                                                           "quelques secondes avant de réessayer.")))
    app.register_error_handler(500, handler(500, lambda: _("Une erreur inattendue est survenue. "
                                                           "Réessayez ; si elle persiste, "
                                                           "contactez le support.")))
