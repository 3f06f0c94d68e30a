"""The notification centre: the page with its filters, the eye (mark read), the arrow (open
the action), bulk "marquer comme lues"; the bell of the header (context processor)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import ngettext

from app.security.perimeter import actor
from app.security.redirects import local_url
from app.services import notifications as service


def _lu_filter(value: str | None):
    return {"oui": True, "non": False}.get((value or "non").lower(), None)


def _safe_local(url: str) -> str:
    """Only links inside the platform (a stored link is never an open redirect)."""
    return local_url(url, url_for("NotificationsView.liste"))


class NotificationsView(BaseView):
    route_base = "/notifications"
    default_view = "liste"
    class_permission_name = "Notification"
    method_permission_name = {"liste": "read", "ouvrir": "read", "lire": "update",
                              "lire_une": "update"}

    @expose("/")
    @has_access
    def liste(self):
        rubrique = request.args.get("rubrique") or None
        lu_arg = request.args.get("lu", "non")
        rows = service.search(actor(), rubrique, _lu_filter(lu_arg), request.args.get("page"))
        return self.render_template(
            "clea/notifications.html", rows=rows, rubrique=rubrique, lu=lu_arg,
            rubriques=service.RUBRIQUES, label=service.rubrique_label)

    @expose("/ouvrir/<int:pk>", methods=["POST"])
    @has_access
    def ouvrir(self, pk):
        """A notification of the bell: marked read (a change: POST with its token), then its
        page."""
        return redirect(_safe_local(service.open_notification(actor(), pk)))

    @expose("/lire/<int:pk>", methods=["POST"])
    @has_access
    def lire_une(self, pk):
        """The eye: mark this one as read."""
        service.mark_read(actor(), [pk])
        return redirect(_safe_local(request.form.get("next") or
                                    url_for("NotificationsView.liste")))

    @expose("/lire", methods=["POST"])
    @has_access
    def lire(self):
        ids = request.form.getlist("ids")
        count = service.mark_read(actor(), ids)
        flash(ngettext("%(num)d notification marquée comme lue.",
                       "%(num)d notifications marquées comme lues.", count), "success")
        back = request.form.get("next") or url_for("NotificationsView.liste")
        return redirect(_safe_local(back))


def bell_context():
    """The header bell: unread count and the latest ones (one indexed query per page)."""
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False):
        return {}
    user = actor()
    from flask import current_app

    try:
        count, latest = service.cloche(user)
        return {"clea_search": current_app.appbuilder.sm.has_access("can_read", "Candidature"),
                "clea_bell": {"count": count, "latest": latest,
                              "label": service.rubrique_label}}
    except Exception:  # the bell never breaks a page
        return {}
