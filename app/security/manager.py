"""FAB security manager: our user model, French login, server-side sessions (checked on each
request), progressive login delay, rate-limited logins, API tokens refused after a password
change."""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from flask import current_app, flash, g, redirect, request
from flask_appbuilder import expose
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.sqla.manager import SecurityManager
from flask_appbuilder.security.sqla.models import (Permission, PermissionView, Role, ViewMenu,
                                                   assoc_group_role, assoc_permissionview_role,
                                                   assoc_user_group, assoc_user_role)
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.views import AuthDBView, UserDBModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, bindparam, cast, func, or_, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash

from app.extensions import db
from app.api.securite import CleaSecurityApi
from app.models import Utilisateur
from app.services import accounts, audit, sessions, tentatives
from app.views.deux_facteurs import apres_mot_de_passe

from .fab_views import (
    CleaPermissionModelView,
    CleaPermissionViewModelView,
    CleaRoleModelView,
    CleaUserGroupModelView,
    CleaViewMenuModelView,
    KnownActionsOnly,
)
from .redirects import local_url
from .request_cache import per_request, remember


class Droits(NamedTuple):
    """A user's roles (their own and their groups') and the (permission, view) pairs of those
    roles that live in the database."""
    roles: tuple
    permissions: frozenset


def _roles_of(uid):
    """The user's roles (own and through groups) and the fingerprint of those roles'
    permission rows, for the user `uid` (a bind parameter)."""
    direct = select(assoc_user_role.c.role_id).where(assoc_user_role.c.user_id == uid)
    via_groups = (select(assoc_group_role.c.role_id)
                  .join(assoc_user_group, assoc_user_group.c.group_id == assoc_group_role.c.group_id)
                  .where(assoc_user_group.c.user_id == uid))
    grants = assoc_permissionview_role.c
    granted = select(grants.permission_view_id, grants.role_id).where(
        or_(grants.role_id.in_(direct), grants.role_id.in_(via_groups))).subquery()
    # each row (permission of a role) mixed into a 32-bit number; the count and the sum of
    # those (one bigint) change with any row added, removed or replaced
    mixed = (cast(granted.c.permission_view_id, BigInteger) * 2654435761
             + cast(granted.c.role_id, BigInteger) * 40503) % 4294967291
    fingerprint = select(cast(func.count(), BigInteger) * 10 ** 13
                         + func.coalesce(func.sum(mixed), 0)).select_from(granted)
    return (or_(Role.id.in_(direct), Role.id.in_(via_groups)), Role.id.in_(direct),
            fingerprint.scalar_subquery())


@lru_cache(maxsize=1)
def _roles_and_fingerprint():
    """The statement of CleaSecurityManager._lire_droits (built once: building it cost more
    than running it), for the user `:uid`."""
    roles, direct, fingerprint = _roles_of(bindparam("uid"))
    return (select(Role, direct.label("direct"), fingerprint.label("empreinte"))
            .where(roles).order_by(Role.id))


@lru_cache(maxsize=1)
def _user_roles_and_bell():
    """The statement of CleaSecurityManager.utilisateur_et_droits, built once: the user `:uid`
    (one row per role, the user alone when they have none) with the roles' fingerprint and
    the number of their unread notifications (the header bell's badge)."""
    from app.models import Notification

    uid = bindparam("uid")
    roles, direct, fingerprint = _roles_of(uid)
    unread = (select(func.count()).select_from(Notification)
              .where(Notification.user_id == uid, Notification.lu.is_(False)).scalar_subquery())
    return (select(Utilisateur, Role, direct.label("direct"), fingerprint.label("empreinte"),
                   unread.label("non_lues"))
            .select_from(Utilisateur).outerjoin(Role, roles)
            .where(Utilisateur.id == uid).order_by(Role.id))


def _paires(*conditions) -> frozenset:
    """The (permission, view) names granted to the roles the conditions on
    ab_permission_view_role choose, in one statement."""
    grants = assoc_permissionview_role.c
    rows = db.session.execute(
        select(Permission.name, ViewMenu.name).select_from(assoc_permissionview_role)
        .join(PermissionView, PermissionView.id == grants.permission_view_id)
        .join(Permission, Permission.id == PermissionView.permission_id)
        .join(ViewMenu, ViewMenu.id == PermissionView.view_menu_id)
        .where(*conditions)).all()
    return frozenset((permission, view) for permission, view in rows)


class CleaAuthDBView(AuthDBView):
    login_template = "clea/login.html"
    title = _l("Connexion")

    @expose("/login/", methods=["GET", "POST"])
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(local_url(request.args.get("next"), self.appbuilder.get_url_for_index))
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = local_url(request.args.get("next"), self.appbuilder.get_url_for_index)
            user = self.appbuilder.sm.auth_user_db(form.username.data, form.password.data)
            if not user:
                flash(tentatives.login_error(), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            return apres_mot_de_passe(user, next_url)  # the second factor, if enrolled
        return self.render_template(self.login_template, title=self.title, form=form,
                                    appbuilder=self.appbuilder)



    @expose("/logout/", methods=["GET", "POST"])
    def logout(self):
        """Logging out is a POST carrying the CSRF token (the user menu's button), so that a
        link or an image on a foreign page cannot end the session; GET asks first."""
        if request.method == "POST":
            # The session row ends (on every app server), then FAB's logout.
            sessions.terminer_session_courante(self._get_authenticated_user())
            return super().logout()
        if g.user is None or not g.user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        return self.render_template("clea/deconnexion.html", title=_("Déconnexion"),
                                    appbuilder=self.appbuilder)


class CleaUserDBModelView(KnownActionsOnly, UserDBModelView):
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
    rolemodelview = CleaRoleModelView
    groupmodelview = CleaUserGroupModelView
    permissionmodelview = CleaPermissionModelView
    viewmenumodelview = CleaViewMenuModelView
    permissionviewmodelview = CleaPermissionViewModelView
    security_api = CleaSecurityApi  # the API login asks for the second factor too

    def create_login_manager(self, app):
        """A browser is logged in only while its server-side session row is open."""
        lm = super().create_login_manager(app)
        lm.user_loader(self._utilisateur_de_session)
        return lm

    def _utilisateur_de_session(self, user_id):
        """The session's user, with their roles and permissions read in the same go (one
        statement for the request, before anything asks for a role or a right)."""
        return sessions.utilisateur_de_session(user_id, charger=self.utilisateur_et_droits)

    def load_user_jwt(self, _jwt_header, jwt_data):
        """An API token's user, with their roles in the same statement (FAB's loader, then
        another statement for the roles, took two)."""
        try:
            user = self.utilisateur_et_droits(int(jwt_data["sub"]))
        except (KeyError, TypeError, ValueError):
            return None
        if user is not None and user.is_active:
            g.user = user  # as FAB's loader does: the API's views read it
            return user
        return None

    def create_jwt_manager(self, app):
        """API tokens carry the user's session generation; a raised one refuses them."""
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(sessions.jeton_claims)
        jwt_manager.token_in_blocklist_loader(sessions.jeton_revoque)
        return jwt_manager

    # --- permissions: one query per request (DESIGN.md §10) ------------------------------
    # FAB asks the database once per permission check (each menu item, each @has_access,
    # each button): 20 to 30 statements on every page. The user's roles and all their
    # permissions are read in one statement, the first time a request needs them.

    def droits(self, user) -> Droits | None:
        """The user's roles and permissions, read once per request (None: anonymous)."""
        user_id = getattr(user, "id", None)
        if user_id is None or not getattr(user, "is_authenticated", False):
            return None
        return per_request(("droits", user_id), lambda: self._lire_droits(user))

    def _lire_droits(self, user) -> Droits:
        """One statement: the user's roles (their own, and their groups'), with a fingerprint
        of those roles' permission rows. The permissions themselves are kept per application
        for each (roles, fingerprint): a role edited on any app server (FAB's role screens,
        `flask clea init`) changes its rows, hence the fingerprint, and the next request of
        every server reads them again; a user given another role is seen at once, the roles
        being read on every request."""
        rows = db.session.execute(_roles_and_fingerprint(), {"uid": user.id}).all()
        return self._droits_des_lignes(user, rows)

    def utilisateur_et_droits(self, user_id: int):
        """The active user `user_id` read with their roles, the roles' fingerprint and their
        unread notifications' count, in one statement (the session's loader, on every
        request): the request then knows its rights and the bell's badge (None: no such
        user)."""
        rows = db.session.execute(_user_roles_and_bell(), {"uid": user_id}).all()
        if not rows:
            return None
        user = rows[0].Utilisateur
        remember(("non_lues", user.id), int(rows[0].non_lues or 0))
        remember(("droits", user.id),
                 self._droits_des_lignes(user, [row for row in rows if row.Role is not None]))
        return user

    def _droits_des_lignes(self, user, rows) -> Droits:
        roles = tuple(row.Role for row in rows)
        own = [row.Role for row in rows if row.direct]
        if "roles" not in vars(user):  # the same roles, without another statement
            set_committed_value(user, "roles", own)
        key = (tuple(role.id for role in roles),
               rows[0].empreinte if rows else 0)
        kept = current_app.extensions.setdefault("clea.droits", {})
        permissions = kept.get(key)
        if permissions is None:
            permissions = self._permissions_des_roles(roles)
            if len(kept) > 1000:  # role sets are few; never grow without bound
                kept.clear()
            kept[key] = permissions
        return Droits(roles, permissions)

    def _permissions_des_roles(self, roles) -> frozenset:
        """The (permission, view) pairs of these roles (FAB's builtin roles excepted: their
        rights are in the configuration)."""
        ids = [role.id for role in roles if role.name not in self.builtin_roles]
        if not ids:
            return frozenset()
        return _paires(assoc_permissionview_role.c.role_id.in_(ids))

    def _public_permissions(self) -> frozenset:
        """The (permission, view) pairs of the Public role, read in one statement once per
        request: FAB's API decorator asks twice per request whether the endpoint is public,
        each time loading the role and then its permissions (four statements)."""
        return per_request(("droits", "public"), lambda: _paires(
            assoc_permissionview_role.c.role_id.in_(
                select(Role.id).where(Role.name == self.auth_role_public))))

    def is_item_public(self, permission_name, view_name):
        return (permission_name, view_name) in self._public_permissions()

    def get_user_roles(self, user):
        droits = self.droits(user)
        return list(droits.roles) if droits is not None else super().get_user_roles(user)

    def _has_view_access(self, user, permission_name, view_name):
        droits = self.droits(user)
        if droits is None:
            return super()._has_view_access(user, permission_name, view_name)
        if any(role.name in self.builtin_roles
               and self._has_access_builtin_roles(role, permission_name, view_name)
               for role in droits.roles):
            return True
        return (permission_name, view_name) in droits.permissions

    def _get_user_permission_view_menus(self, user, permission_name, view_menus_name):
        droits = self.droits(user) if user is not None else None
        if droits is None:
            return super()._get_user_permission_view_menus(user, permission_name,
                                                           view_menus_name)
        result = {name for role in droits.roles if role.name in self.builtin_roles
                  for name in view_menus_name
                  if self._has_access_builtin_roles(role, permission_name, name)}
        result.update(view for permission, view in droits.permissions
                      if permission == permission_name)
        return result

    def auth_user_db(self, username, password):
        """The password check of the HTML and API logins. Known and unknown logins take the
        same path: one password hash check (a dummy hash for an unknown or suspended
        account), one counter write, the same answer. While a delay runs for this login
        from this address (services.tentatives), the attempt is refused without checking."""
        login = (username or "").strip()
        ip = request.remote_addr or ""
        if not login:
            return None
        wait = tentatives.attente(login, ip)
        if wait:
            g.clea_login_error = tentatives.login_delayed_message(wait)
            audit.record(None, "connexion_ralentie", None, login[:256])
            db.session.commit()
            return None
        by_name, by_email = self.find_user(username=login), self.find_user(email=login)
        user = by_name or by_email
        known = user is not None and user.is_active and bool(user.password)
        digest = user.password if known else current_app.config[
            "AUTH_DB_FAKE_PASSWORD_HASH_CHECK"]
        valid = check_password_hash(digest, password or "") and known and bool(password)
        if not valid:
            tentatives.echec(login, ip)
            audit.record(None, "connexion_refusee", user, login[:256])
            db.session.commit()
            return None
        tentatives.succes(login, ip)
        self.update_user_auth_stat(user, True)  # login count and date; commits

        return user

    def reset_password(self, userid, password):
        """FAB's own password forms (technical Admin): history kept, sessions ended."""
        user = self.get_user_by_id(int(userid))
        accounts.reset_password_by_admin(user, password, by=getattr(g, "user", None))

    def register_views(self):
        super().register_views()
        # The API login is rate-limited like the HTML one.
        if self.is_auth_limited:
            for view in self.appbuilder.baseviews:
                if isinstance(view, self.security_api) and view.blueprint is not None:
                    self.limiter.limit(self.auth_rate_limit, methods=["POST"])(view.blueprint)

