"""Sync FAB roles and permissions from the matrix (run by `flask clea init`, never at start-up)."""
from __future__ import annotations

from flask import current_app
from flask_appbuilder.security.manager import BaseSecurityManager

from . import matrix
from . import roles as R


def sync_roles() -> dict[str, int]:
    """Create every business role and give it exactly the matrix's permissions; the Public
    role (anyone, without logging in) gets PUBLIC_FAB_PERMISSIONS only."""
    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    # FAB's Admin (technical, every permission) and Public (nothing), without create_all:
    # the schema belongs to Alembic.
    BaseSecurityManager.create_db(sm)
    appbuilder.add_permissions(update_perms=True)  # permissions of every registered view
    counts = {}
    for role in R.ROLES:
        fab_role = sm.find_role(role.name) or sm.add_role(role.name)
        wanted = matrix.fab_permissions(role)
        current = {(pv.permission.name, pv.view_menu.name): pv for pv in fab_role.permissions}
        for perm_name, view_name in wanted - set(current):
            pv = sm.add_permission_view_menu(perm_name, view_name)
            sm.add_permission_role(fab_role, pv)
        for key in set(current) - wanted:
            sm.del_permission_role(fab_role, current[key])
        counts[role.name] = len(wanted)
    public = sm.find_role(sm.auth_role_public) or sm.add_role(sm.auth_role_public)
    current = {(pv.permission.name, pv.view_menu.name): pv for pv in public.permissions}
    for perm_name, view_name in matrix.PUBLIC_FAB_PERMISSIONS - set(current):
        sm.add_permission_role(public, sm.add_permission_view_menu(perm_name, view_name))
    for key in set(current) - matrix.PUBLIC_FAB_PERMISSIONS:
        sm.del_permission_role(public, current[key])
    from app.extensions import db

    db.session.commit()
    return counts
