"""gettext for the templates: the catalogue found once per request.

Flask-Babel's template callables look the catalogue up on every string (the request's
Babel state, its domain, its locale formatted as text, then the cache): a list page
translates 150 to 200 strings, about 3 ms of it. The catalogue is the same for the whole
request as long as its locale and domain are: it is kept on the request's Babel state
beside the locale it was found for, and looked up again when they change (`force_locale`
for an e-mail in the recipient's language, `refresh`)."""
from __future__ import annotations

from flask import g
from flask_babel import get_translations


def current_translations():
    """The catalogue of the current locale and domain (Flask-Babel's own outside a request)."""
    state = g.get("_flask_babel") if g else None
    if state is not None:
        kept = getattr(state, "clea_catalogue", None)
        if kept is not None and kept[0] is getattr(state, "babel_locale", None) \
                and kept[1] is getattr(state, "babel_domain", None):
            return kept[2]
    catalogue = get_translations()
    state = g.get("_flask_babel") if g else None
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.clea_catalogue = (state.babel_locale, getattr(state, "babel_domain", None),
                                catalogue)
    return catalogue


def install(app) -> None:
    """The templates' gettext callables, as Flask-Babel installs them, on the kept catalogue."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
    )
