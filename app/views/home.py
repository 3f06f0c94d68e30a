"""Accueil: what the user can do from here, and why something is unavailable."""
from __future__ import annotations

from flask import redirect, url_for
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from app.services import actualites, home
from app.services.candidatures import statut_label


class AccueilView(IndexView):
    index_template = "clea/accueil.html"

    @expose("/")
    def index(self):
        if not current_user.is_authenticated:
            return redirect(self.appbuilder.get_url_for_login)
        from . import VIEW_OF_MENU

        accueil = home.summary(current_user)
        links = [(item, url_for(f"{VIEW_OF_MENU[item.name].__name__}."
                                f"{VIEW_OF_MENU[item.name].default_view}"))
                 for item in accueil.links]
        return self.render_template(self.index_template, accueil=accueil, links=links,
                                    actualites=actualites.current(),
                                    statut_label=statut_label,
                                    appbuilder=self.appbuilder)
