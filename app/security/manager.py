"""FAB security manager: our user model, French login with lockout, rate-limited logins."""
from __future__ import annotations

from flask import flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user

from app.extensions import db
from app.models import Utilisateur
from app.services import accounts, audit


class CleaAuthDBView(AuthDBView):
    login_template = "clea/login.html"
    title = _l("Connexion")

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(g.pop("clea_login_error", None)
                      or _("Identifiant ou mot de passe incorrect."), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            login_user(user, remember=False)
            return redirect(next_url)
        return self.render_template(self.login_template, title=self.title, form=form,
                                    appbuilder=self.appbuilder)


class CleaUserDBModelView(UserDBModelView):
    """FAB's user screen (technical Admin): an account is never deleted — its history, the
    dossiers and decisions it signed stay readable — it is suspended (Mes utilisateurs)."""

    def _get_list_widget(self, *args, **kwargs):
        widgets = super()._get_list_widget(*args, **kwargs)
        args = widgets["list"].template_args
        args["row_actions"] = [{"supprimer": False} for _pk in args.get("pks") or []]  # no bin
        return widgets

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @has_access
    def delete(self, pk):
        flash(_("Un compte n'est jamais supprimé, pour que son historique reste lisible : "
                "suspendez-le depuis Mes utilisateurs."), "danger")
        return redirect(self.get_redirect())


class CleaSecurityManager(SecurityManager):
    user_model = Utilisateur
    authdbview = CleaAuthDBView
    userdbmodelview = CleaUserDBModelView

    def auth_user_db(self, username, password):
        """FAB's check, plus: a locked account is refused without checking the password,
        and the 5th consecutive failure locks it (services.accounts holds the rule)."""
        user = self.find_user(username=username) or (
            self.find_user(email=username) if username else None
        )
        if accounts.is_locked(user):
            g.clea_login_error = accounts.locked_message()
            _journal_login(None, user, username, "compte verrouillé")
            return None
        result = super().auth_user_db(username, password)
        if result is None and user is not None and user.is_active:
            if accounts.after_failed_login(user):
                g.clea_login_error = accounts.locked_message()
        _journal_login(result, user, username)
        return result

    def register_views(self):
        super().register_views()
        # The API login is rate-limited like the HTML one.
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, self.security_api) and view.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)


def _journal_login(result, user, username, why=None):
    """« connexion » / « connexion_refusee » in the audit journal (with the address and
    browser); a refused attempt keeps the login typed, cut short."""
    if result is not None:
        audit.record(result, "connexion", result)
    else:
        detail = f"identifiant saisi : {(username or '')[:80]}"
        audit.record(None, "connexion_refusee", user, f"{detail} ; {why}" if why else detail)
    db.session.commit()
