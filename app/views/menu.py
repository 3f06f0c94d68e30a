"""The navigation menu, drawn once per set of visible items and language.

FAB draws its menu on every page: a permission check, a URL and a translation for each
item, about 10 ms of a page that takes 20 to 40. What the menu shows depends only on the
items the user may see (permissions and the habilitation gate, both read once per request),
the language and the application's URL prefix: its HTML is drawn once for each such set and
kept by the application (a few per role and language)."""
from __future__ import annotations

from flask import current_app, request
from flask_login import current_user
from flask_babel import get_locale
from markupsafe import Markup

_MAX_KEPT = 256  # distinct menus kept per application; past it, drawn on each page


def visible_menu(appbuilder) -> tuple:
    """((category or link, its visible children, or None for a link), ...): the items the
    current user sees, in the menu's order (their menu_access permissions, asked once for
    all; an inactive account sees none). A category with no visible child is left out."""
    items = appbuilder.menu.get_list()
    if current_user.is_authenticated and not current_user.is_active:
        return ()
    allowed = appbuilder.sm.get_user_menu_access(
        [item.name for item in items] + [child.name for item in items for child in item.childs
                                         if child and child.name != "-"])
    tree = []
    for item in items:
        if item.name not in allowed or not item.should_render():
            continue
        if not item.childs:
            tree.append((item, None))
            continue
        shown = tuple(child for child in item.childs
                      if child and child.name != "-" and child.name in allowed
                      and child.should_render())
        if shown:
            tree.append((item, shown))
    return tuple(tree)


def menu_html() -> Markup:
    """The menu's HTML for the current user (template global `clea_menu`)."""
    appbuilder = current_app.appbuilder
    tree = visible_menu(appbuilder)
    key = (str(get_locale()), request.script_root,
           tuple((item.name, None if shown is None else tuple(c.name for c in shown))
                 for item, shown in tree))
    kept = current_app.extensions.setdefault("clea_menu", {})
    html = kept.get(key)
    if html is None:
        # the output of an autoescaping template (labels and URLs escaped by it): safe HTML
        html = Markup(current_app.jinja_env.get_template(  # nosec B704
            "appbuilder/navbar_menu.html").render(tree=tree))
        if len(kept) < _MAX_KEPT:
            kept[key] = html
    return html
