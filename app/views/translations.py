"""gettext with the catalogue found once per request.

Flask-Babel looks the catalogue up on every string (the request's Babel state, its domain,
its locale formatted as text, then the cache): a list page translates 150 to 200 strings in
its templates, and the views and services more (labels, lazy strings), about 3 ms of a
page. The catalogue is the same for the whole request as long as its locale and domain
are: it is kept on the request's Babel state beside the locale and domain it was found for,
and looked up again when they change (`force_locale` for an e-mail in the recipient's
language, `refresh`). Outside a request, Flask-Babel's own answer."""
from __future__ import annotations

from flask import g
from flask_babel import Domain, get_translations


class DomaineParRequete(Domain):
    """The application's message domain (Flask-Babel's `domain_instance`), its catalogue
    kept for the request."""

    def get_translations(self):
        return current_translations(lambda: super(DomaineParRequete, self).get_translations())

    def gettext(self, string, **variables):
        """An empty text stays empty: msgid "" is the catalogue's header (« Project-Id-Version:
        … »), which FAB's `_info` gave as the description of every field without one."""
        if not string:
            return ""
        return super().gettext(string, **variables)


def current_translations(find=get_translations):
    """The catalogue of the current locale and domain, `find` asked only when not kept."""
    state = g.get("_flask_babel") if g else None
    if state is not None:
        kept = getattr(state, "clea_catalogue", None)
        if kept is not None and kept[0] is getattr(state, "babel_locale", None) \
                and kept[1] is getattr(state, "babel_domain", None):
            return kept[2]
    catalogue = find()
    state = g.get("_flask_babel") if g else None
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.clea_catalogue = (state.babel_locale, getattr(state, "babel_domain", None),
                                catalogue)
    return catalogue


def install(app) -> None:
    """The application's domain, and the templates' gettext callables as Flask-Babel
    installs them, on the kept catalogue."""
    babel = app.extensions["babel"].instance
    babel.domain_instance = DomaineParRequete(domain=babel.domain)
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
