"""The API changes state only with a bearer token (DESIGN.md §11).

FAB's API also accepts the browser's session cookie (`allow_browser_login`), which a foreign
page can make the browser send: a cookie-only POST/PUT/PATCH/DELETE under /api/ would be a
cross-site request forgery. Reads keep working with the cookie (a foreign page cannot read the
answer); writes must carry `Authorization: Bearer <JWT>`, which no foreign page can add
without a CORS preflight that the platform never grants. The platform's own pages never write
through the API (their forms post to the screens, with a CSRF token), so nothing of ours needs
the cookie there.

The security API (login, refresh) is outside the rule: it authenticates from its body or its
own refresh token, never from the cookie.
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_babel import gettext as _
from flask_jwt_extended import verify_jwt_in_request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/api/"
# The security API (FAB's or its subclass with the second factor) authenticates by itself
OWN_AUTHENTICATION = "/api/v1/security/"


def needs_bearer() -> bool:
    return (request.method not in SAFE_METHODS and request.path.startswith(API_PREFIX)
            and not request.path.startswith(OWN_AUTHENTICATION))


def bearer_message() -> str:
    return _("L'API ne modifie les données qu'avec un jeton : envoyez l'en-tête "
             "« Authorization: Bearer <jeton> » obtenu par POST /api/v1/security/login. "
             "Le cookie de session du navigateur ne suffit pas.")


def init_api_writes(app: Flask) -> None:
    @app.before_request
    def api_writes_need_a_bearer_token():
        if not needs_bearer():
            return None
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            response = jsonify(message=bearer_message())
            response.status_code = 401
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        # An invalid, expired or revoked token answers the JWT loaders' French 401; a valid
        # one makes its user the request's user (g.user), whatever cookie came along.
        verify_jwt_in_request()
        return None
