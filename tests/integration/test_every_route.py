"""Every route × every role, generated from the application's URL map and the permission
matrix (app/security/matrix.py): a route a role has no right to is refused (403 for a
signed-in user, the login page or 401 for a visitor), and no request — with a made-up id, an
empty form or no body — ever gets a 500. New routes are covered as soon as they exist.

Which *rows* a role reaches inside a route is tested resource by resource in
test_authorization.py (own perimeter 200, other perimeter 404)."""
from __future__ import annotations

import pytest

from app.security import matrix
from app.security import roles as R

# Routes that end or open the session itself: requesting them would sign the client out.
SESSION_ROUTES = ("logout", "login", "deconnect", "security.refresh")
# Converter → a value to put in the URL (an id that exists in the test world for most tables).
SAMPLE = {"int": "1", "default": "1", "string": "1", "path": "x", "any": "x", "float": "1"}


def _routes(app):
    """(rule, methods, permission pair or None) for every route but static files."""
    views = {v.blueprint.name: v for v in app.appbuilder.baseviews if v.blueprint is not None}
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static"):
            continue
        blueprint, _, method = rule.endpoint.partition(".")
        view = views.get(blueprint)
        function = getattr(view, method, None) if view else None
        permission = None
        if function is not None and getattr(function, "_permission_name", None):
            permission = ("can_" + view.get_method_permission(method), view.class_permission_name)
        methods = sorted(rule.methods & {"GET", "POST", "PUT", "DELETE"})
        routes.append((rule, methods, permission))
    return routes


def _url(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.replace("Converter", "").lower()
        values[name] = SAMPLE.get(kind, "1")
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name])
        for kind in ("int", "string", "path", "any", "float"):
            path = path.replace(f"<{kind}:{name}>", values[name])
    return path


class _Crash:
    """What a request that raised looks like here: the server would have answered 500."""

    def __init__(self, error):
        self.status_code = 500
        self.headers = {}
        self.error = error


def _request(client, method, url, headers=None):
    try:
        if method == "GET":
            return client.get(url, headers=headers)
        if method == "POST":
            return client.post(url, data={}, headers=headers)
        return client.open(url, method=method, json={}, headers=headers)
    except Exception as error:  # the test app propagates exceptions: each is a 500
        return _Crash(f"{type(error).__name__}: {error}")


@pytest.mark.parametrize("role", R.ROLES, ids=lambda r: r.code)
def test_every_route_for_every_role(app, world, login, api_token, role):
    username = world.usernames[role.code]
    granted = matrix.fab_permissions(role)
    browser = login(username)
    headers = api_token(username)
    api = app.test_client()
    wrong = []
    refused = 0
    for rule, methods, permission in _routes(app):
        if any(word in rule.endpoint.lower() for word in SESSION_ROUTES):
            continue
        url = _url(rule)
        is_api = rule.rule.startswith("/api/")
        client, auth = (api, headers) if is_api else (browser, None)
        for method in methods:
            response = _request(client, method, url, auth)
            status = response.status_code
            if status >= 500:
                wrong.append(f"{method} {url}: {status} {getattr(response, 'error', '')}")
            elif permission is not None and permission not in granted:
                refused += 1
                if status != 403:
                    wrong.append(f"{method} {url}: {status}, attendu 403 ({permission[0]} "
                                 f"sur {permission[1]} absent de la matrice)")
    assert not wrong, "\n".join(wrong)
    assert refused > 20  # FAB's technical screens at least are refused to every business role


def test_every_route_for_a_visitor(app):
    """A visitor reaches only the public pages (and the API's OpenAPI document); everything
    else asks to sign in."""
    client = app.test_client()
    wrong = []
    for rule, methods, permission in _routes(app):
        if any(word in rule.endpoint.lower() for word in SESSION_ROUTES):
            continue
        url = _url(rule)
        for method in methods:
            response = _request(client, method, url)
            status = response.status_code
            if status >= 500:
                wrong.append(f"{method} {url}: {status} {getattr(response, 'error', '')}")
            elif permission is None or permission in matrix.PUBLIC_FAB_PERMISSIONS:
                continue  # public: the OpenAPI document is read before having an account
            elif rule.rule.startswith("/api/"):
                if status != 401:
                    wrong.append(f"{method} {url}: {status}, attendu 401")
            elif not (status == 302 and "/login/" in response.headers.get("Location", "")):
                wrong.append(f"{method} {url}: {status}, attendu la page de connexion")
    assert not wrong, "\n".join(wrong)
