"""« Aide / Contact »: the support form of the header."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext as _

from app.extensions import db
from app.security.perimeter import actor
from app.services.errors import ServiceError
from app.services import support


class SupportView(BaseView):
    route_base = "/aide"
    default_view = "contact"
    class_permission_name = "Profil"
    method_permission_name = {"contact": "read", "envoyer": "update"}

    @expose("/")
    @has_access
    def contact(self):
        page = request.args.get("page") or request.referrer or ""
        return self._render(page)

    def _render(self, page, errors=None, form=None, status=200):
        return self.render_template("clea/support.html", page=page, errors=errors or {},
                                    form=form or {}, longueur_min=support.MIN_LENGTH,
                                    longueur_max=support.MAX_LENGTH), status

    @expose("/", methods=["POST"])
    @has_access
    def envoyer(self):
        form = {k: request.form.get(k, "") for k in ("sujet", "message", "page")}
        try:
            support.contact_support(actor(), form["sujet"], form["message"], form["page"])
        except ServiceError as error:
            db.session.rollback()
            return self._render(form["page"], {error.field or "form": error.message}, form, 400)
        flash(_("Votre demande a été envoyée au support CléA. Une réponse vous sera faite par "
                "e-mail."), "success")
        return redirect(url_for("SupportView.contact"))
