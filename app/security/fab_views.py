"""FAB's technical security screens (roles, permissions, groups…), kept for the technical
Admin, with one mend: an unknown action name is a 404, not a crash (FAB looks the action up
before checking it exists, so `/roles/action/x/1` answered 500 to anyone)."""
from __future__ import annotations

from flask import abort, request
from flask_appbuilder.security.views import (
    PermissionModelView,
    PermissionViewModelView,
    RoleModelView,
    UserGroupModelView,
    ViewMenuModelView,
)


class KnownActionsOnly:
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        return super().action(name, pk)

    def action_post(self):
        if request.form.get("action") not in self.actions:
            abort(404)
        return super().action_post()


class CleaRoleModelView(KnownActionsOnly, RoleModelView):
    pass


class CleaUserGroupModelView(KnownActionsOnly, UserGroupModelView):
    pass


class CleaPermissionModelView(KnownActionsOnly, PermissionModelView):
    pass


class CleaViewMenuModelView(KnownActionsOnly, ViewMenuModelView):
    pass


class CleaPermissionViewModelView(KnownActionsOnly, PermissionViewModelView):
    pass
