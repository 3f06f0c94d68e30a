"""French answers for the refusals that the framework makes on its own (Werkzeug, Flask-WTF,
Flask-AppBuilder, flask-jwt-extended): a French page on the screens, French JSON
{"message": …} under /api/, never an English « Bad Request » or « Not authorized ».

And the database down: every page answers 503 with a static page rendered without touching
the database (no user, no menu, no context processor), the API answers 503 JSON; the pool
checks each connection before use (`pool_pre_ping`), so the platform recovers by itself when
the database is back.
"""
from __future__ import annotations

import logging
import math
import re
from typing import Any, Optional

from flask import Flask, current_app, g, has_request_context, jsonify, make_response, request
from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy import exc as sa
from werkzeug.exceptions import HTTPException, InternalServerError, NotFound, RequestEntityTooLarge

from app.extensions import db
from app.security.perimeter import MAX_ID

RETRY_AFTER_SECONDS = 30
# Errors meaning « the database does not answer » (refused or lost connection, pool exhausted).
UNAVAILABLE = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, sa.DisconnectionError)

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


# --- the database down -----------------------------------------------------------------

def db_unavailable(error: Optional[BaseException]) -> bool:
    return isinstance(error, UNAVAILABLE) or bool(getattr(error, "connection_invalidated",
                                                          False))


def unavailable_message() -> str:
    return _("Service momentanément indisponible : la base de données ne répond pas. "
             "Réessayez dans quelques instants.")


def _rollback_quietly() -> None:
    """Free the failed transaction so that the next request starts clean (no round trip
    is needed on a lost connection; any error here is the same outage)."""
    try:
        db.session.rollback()
    except Exception as error:  # noqa: BLE001  (the database is down: nothing more to do)
        log.debug("rollback during an outage: %s", error)


def unavailable():
    """503, French, without touching the database: the page is rendered straight from the
    Jinja environment, so neither the menu nor the user nor any context processor runs."""
    _rollback_quietly()
    message = unavailable_message()
    if wants_json():
        response = jsonify(message=message)
    else:
        template = current_app.jinja_env.get_template("clea/503.html")
        response = make_response(template.render(
            message=message, retry_after=RETRY_AFTER_SECONDS, lang=str(get_locale() or "fr"),
            app_name=current_app.config.get("APP_NAME", ""),
            support_email=current_app.config.get("CLEA_SUPPORT_EMAIL", "")))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def _flag_unavailable(context) -> None:
    """Engine hook: remember that this request met the outage, for the answers that FAB's
    `@safe` turns into a bare 500 (« Fatal error ») before any error handler sees them."""
    if context.is_pre_ping:  # the pool retries with a new connection by itself
        return
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, UNAVAILABLE):
        if has_request_context():
            g.clea_db_unavailable = True


# --- a refusal, in French ----------------------------------------------------------------

def refusal(code: int, message: str, headers: Optional[dict] = None):
    """The French answer for `code`: JSON under /api/, else the platform's error page (or
    the static 503 page if even that page cannot be drawn because the database is down)."""
    if wants_json():
        response = jsonify(message=message)
    else:
        try:
            if "user" not in g:  # refused before FAB's before_request (CSRF, size)
                g.user = current_user._get_current_object()
            response = make_response(render_template(
                "clea/erreur.html", code=code, message=message,
                base_template=current_app.appbuilder.base_template,
                appbuilder=current_app.appbuilder))
        except UNAVAILABLE:
            return unavailable()
    response.status_code = code
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _messages() -> dict[int, str]:
    return {
        400: _("Requête invalide : la page a envoyé des données incorrectes. Rechargez-la et "
               "recommencez."),
        401: _("Authentification requise."),
        405: _("Cette action ne s'ouvre pas de cette façon : utilisez le bouton ou le "
               "formulaire de la page."),
        500: _("Une erreur inattendue est survenue. Réessayez ; si elle persiste, contactez le "
               "support."),
    }


INT_MIN, INT_MAX = -MAX_ID - 1, MAX_ID  # the columns' integers (32 bits, as the ids)


def _bad_number(value: Any, depth: int = 0) -> Optional[str]:
    """Why a number in `value` (lists and objects included) fits no column, or None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        if INT_MIN <= value <= INT_MAX:
            return None
        return _("nombre hors des limites permises (entre %(min)s et %(max)s).",
                 min="-2 147 483 648", max="2 147 483 647")
    if isinstance(value, float):
        return None if math.isfinite(value) else _("nombre invalide.")
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) \
        else ()
    if depth > 20 and items:  # deeper than any body of the API
        return _("valeur trop imbriquée.")
    return next((reason for item in items if (reason := _bad_number(item, depth + 1))), None)


LISTE_MAX = 10_000  # items of one JSON list: no operation needs more
Q_MAX = 4_000  # characters of an API list's `q` (gunicorn's request line is 4 094 bytes)
_INTERDITS = re.compile("[\x00\ud800-\udfff]")  # NUL (PostgreSQL refuses it), lone surrogates


def _bad_text(value: Any) -> Optional[str]:
    """Why a JSON body cannot be stored whatever its operation (a text with NUL or a lone
    surrogate, which the database refuses with a 500; a list longer than LISTE_MAX), or
    None. Walked without recursion, keys included."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _INTERDITS.search(item):
                return _("Caractère invalide dans le corps de la requête (caractère nul ou "
                         "demi-paire UTF-16) : retirez-le.")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            if len(item) > LISTE_MAX:
                return _("Liste trop longue dans le corps de la requête : %(n)s éléments au "
                         "plus.", n=f"{LISTE_MAX:,}".replace(",", " "))
            pending.extend(item)
    return None


def non_json():
    """415 for a body that is not JSON where the operation reads JSON."""
    return refusal(415, _("Type de contenu non pris en charge : envoyez un corps JSON "
                          "(Content-Type: application/json)."))


def refuse_field(field: str, reason: str, **extra):
    """400 under /api/: « field » : reason (the field named as the body names it)."""
    field = str(field)[:100]
    response = jsonify(message=_("« %(field)s » : %(reason)s", field=field, reason=reason),
                       field=field, **extra)
    response.status_code = 400
    return response


def refusal_message(code: int) -> str:
    """The French sentence for an HTTP refusal `code` that has no more precise one."""
    if code == 413:
        return too_large_message()
    known = _messages()
    if code in known:
        return known[code]
    return _("La requête n'a pas pu aboutir (erreur %(code)d).", code=code)


def csrf_message() -> str:
    return _("Le formulaire a expiré ou ne vient pas de la plateforme (jeton de sécurité "
             "absent ou invalide). Rechargez la page et recommencez.")


def too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _("L'envoi dépasse la taille maximale autorisée (%(mo)d Mo) : envoyez un fichier "
             "plus petit.", mo=max(1, limit // (1024 * 1024)))


def _id_qui_nomme_rien() -> bool:
    """A 405 whose URL would be a route of the method asked with one of its segments replaced
    by an id: that segment stood for an id no row can have (« -5 », « 4.7e-159 » where the
    read wants <int:pk> and the write takes any <pk>). The thing asked does not exist: 404,
    not « method not allowed »."""
    adapter = current_app.url_map.bind("localhost", script_name=request.script_root or None)
    parts = request.path.split("/")
    for index, part in enumerate(parts):
        if not part or part.isdigit():
            continue
        try:
            adapter.match("/".join(parts[:index] + ["1"] + parts[index + 1:]),
                          method=request.method)
        except HTTPException:
            continue
        return True
    return False


def register_refusals(app: Flask) -> None:
    """Called by create_app once every view is registered (replaces the plain 500 page)."""

    @app.before_request
    def refuse_too_large():
        """Before any view reads the body: FAB's API would turn the 413 into a 500."""
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        if limit and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    @app.before_request
    def refuse_ids_out_of_range():
        """An id in the URL (pk, *_id) beyond the ids' range names no row: 404 here, for
        every route, FAB's included (a database refuses such a number: it would be a 500)."""
        for name, value in (request.view_args or {}).items():
            if name == "pk" or name.endswith("_id"):
                digits = str(value).lstrip("-")
                if digits.isdigit() and (len(digits) > 10 or int(digits) > MAX_ID):
                    raise NotFound()

    @app.before_request
    def refuse_numbers_out_of_range():
        """A JSON body's number that no column holds (an integer past 32 bits, NaN, an
        infinity): 400 naming the field, before any service reads it (the database refused
        it with a 500)."""
        if not wants_json() or not request.is_json:
            return None
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # thousands of nested brackets: the parser gives up
            return refusal(400, _("Corps de la requête trop imbriqué."))
        if isinstance(body, (dict, list)):
            reason = _bad_text(body)
            if reason:
                return refusal(400, reason)
        if isinstance(body, dict):
            for field, value in body.items():
                reason = _bad_number(value)
                if reason:
                    return refuse_field(field, reason)
        return None

    @app.before_request
    def refuse_unreadable_q():
        """FAB reads the API's `q` with the rison decoder and answers 400 to what the decoder
        refuses, but the decoder fails otherwise on some inputs (« -2.8e+16 »: ValueError),
        which FAB's @safe turned into a 500: the same French 400 for those."""
        value = request.args.get("q") if wants_json() else None
        if not value:
            return None
        import prison

        if _INTERDITS.search(value) or len(value) > Q_MAX:
            return refusal(400, _("Paramètre q invalide : trop long ou caractère invalide."))
        try:
            prison.loads(value)
        except prison.decoder.ParserException:
            try:  # FAB reads a JSON `q` too: its texts are checked as a body's
                import json

                reason = _bad_text(json.loads(value))
            except (ValueError, RecursionError):
                reason = None
            if reason:
                return refusal(400, reason)
            return None  # FAB's own answer (a JSON `q`, or its 400)
        except Exception:  # noqa: BLE001  (any other failure of the decoder: the same refusal)
            response = jsonify(message=_fab_json_messages()["Not a valid rison argument"])
            response.status_code = 400
            return response
        return None

    def handle_code(code):
        return lambda _error: refusal(code, _messages()[code])

    for code in (400, 401, 500):
        app.register_error_handler(code, handle_code(code))

    @app.errorhandler(405)
    def method_not_allowed(error):
        if _id_qui_nomme_rien():
            return current_app.handle_http_exception(NotFound())
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        message = _messages()[405]
        if wants_json():  # an integrator, not a page's button
            message = _("Méthode non permise sur cette adresse (permises : %(methodes)s).",
                        methodes=allowed or "—")
        return refusal(405, message, {"Allow": allowed} if allowed else None)

    @app.errorhandler(413)
    def too_large(_error):
        return refusal(413, too_large_message())

    @app.errorhandler(CSRFError)
    def csrf_refused(_error):
        return refusal(400, csrf_message())

    @app.errorhandler(HTTPException)
    def other_http_error(error):
        """Any other HTTP refusal without a page of its own (404, 403, 410, 429 have one)."""
        if error.code is None or error.code < 400:
            return error
        return refusal(error.code, refusal_message(error.code))

    for error_class in UNAVAILABLE:
        app.register_error_handler(error_class, lambda _error: unavailable())

    @app.errorhandler(sa.DBAPIError)
    def database_error(error):
        if db_unavailable(error):
            return unavailable()
        raise error  # a genuine bug: the usual 500 (and the traceback in the log)

    @app.errorhandler(InternalServerError)
    def internal_error(error):
        if db_unavailable(getattr(error, "original_exception", None)):
            return unavailable()
        return refusal(500, _messages()[500])

    @app.after_request
    def french_api_messages(response):
        if not wants_json():
            return response
        if response.status_code == 500 and g.get("clea_db_unavailable"):
            return unavailable()
        if response.status_code == 200 and (request.endpoint or "").endswith(".info"):
            return french_info(response)
        if response.status_code in (301, 308) and response.location \
                and not response.is_json:  # the router's « add the slash »: JSON, in French
            moved = jsonify(message=_("Cette adresse s'écrit avec une barre finale : %(adresse)s",
                                      adresse=response.location))
            moved.status_code, moved.headers["Location"] = response.status_code, \
                response.location
            return moved
        return translate_api_response(response)

    with app.app_context():
        event.listen(db.engine, "handle_error", _flag_unavailable)


# --- FAB's English JSON, in French -------------------------------------------------------

def _fab_json_messages() -> dict[str, str]:
    """FAB's API answers (flask_appbuilder/api/__init__.py, security/api.py): exact texts."""
    not_json = _("Le corps de la requête doit être un objet JSON.")
    bad_q = _("Paramètre q invalide : objet rison ou JSON attendu.")
    return {
        "Not authorized": _("Authentification requise."),
        "Forbidden": _("Votre rôle ne permet pas cette action."),
        "Not found": _("Introuvable ou hors de votre périmètre."),
        "Request payload is not JSON": not_json,
        "Request is not JSON": not_json,
        "Not a valid rison/json argument": bad_q,
        "Not a valid rison argument": bad_q,
        "Fatal error": _("Erreur inattendue."),
        "Method Not Allowed": _messages()[405],
        "Cannot use both select and sel columns": _(
            "Paramètre q invalide : « columns » et « select_columns » ne se combinent pas."),
    }


def _fab_json_prefixes() -> tuple[tuple[str, str], ...]:
    return (
        ("Not a valid rison schema", _("Paramètre q invalide : objet rison ou JSON attendu.")),
        ("Database exception occurred", _("L'enregistrement a échoué ; rien n'a été modifié. "
                                          "Réessayez.")),
        # werkzeug's BadRequest that FAB's @safe answers as str(e): a body that is not JSON
        # (Flask hides the decoder's reason outside debug mode)
        ("400 Bad Request: Failed to decode JSON object", _unreadable_json()),
    )


def _unreadable_json() -> str:
    return _("Corps de la requête illisible : un JSON bien formé est attendu.")


_COLUMN = r"(?P<col>.{0,100}?)"  # a name the request chose: at most 100 characters echoed back


def _fab_json_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """FAB's refusals that name what the request sent (a column, an operation): the French
    sentence keeps it (flask_appbuilder/models/filters.py, api/__init__.py)."""
    return (
        (re.compile(rf"^Filter column: {_COLUMN} not allowed to filter$", re.S),
         _("Filtre refusé : la colonne « %(col)s » ne peut pas servir de filtre.")),
        (re.compile(rf"^Filter operation: (?P<opr>.{{0,100}}?) not allowed on column: "
                    rf"{_COLUMN}$", re.S),
         _("Filtre refusé : l'opération « %(opr)s » n'est pas permise sur la colonne "
           "« %(col)s ».")),
        (re.compile(rf"^Invalid order by column: {_COLUMN}$", re.S),
         _("Tri refusé : la colonne « %(col)s » ne peut pas servir au tri.")),
    )


def _validation_messages() -> dict[str, str]:
    """marshmallow's default messages (what FAB returns for a malformed body), the exact ones
    (marshmallow/fields.py, validate.py)."""
    return {
        "Missing data for required field.": _("Champ obligatoire."),
        "Unknown field.": _("Champ inconnu."),
        "Field may not be null.": _("Ce champ ne peut pas être vide."),
        "Not a valid string.": _("Texte attendu."),
        "Not a valid utf-8 string.": _("Texte UTF-8 invalide."),
        "Not a valid integer.": _("Nombre entier attendu."),
        "Not a valid number.": _("Nombre attendu."),
        "Number too large.": _("Nombre trop grand."),
        "Special numeric values (nan or infinity) are not permitted.": _(
            "Nombre attendu (ni NaN ni l'infini)."),
        "Not a valid boolean.": _("Valeur oui/non attendue."),
        "Not a valid date.": _("Date attendue (AAAA-MM-JJ)."),
        "Not a valid datetime.": _("Date et heure attendues."),
        "Not a valid naive datetime.": _("Date et heure sans décalage horaire attendues."),
        "Not a valid aware datetime.": _("Date et heure avec décalage horaire attendues."),
        "Not a valid time.": _("Heure attendue (HH:MM)."),
        "Not a valid period of time.": _("Durée attendue."),
        "Not a valid list.": _("Liste attendue."),
        "Not a valid tuple.": _("Liste attendue."),
        "Not a valid mapping type.": _("Objet JSON attendu."),
        "Not a valid UUID.": _("Identifiant UUID invalide."),
        "Not a valid email address.": _("Adresse e-mail invalide."),
        "Not a valid URL.": _("Adresse web (URL) invalide."),
        "String does not match expected pattern.": _("Format invalide."),
        "Invalid input type.": _("Type de valeur invalide."),
        "Invalid type.": _("Type de valeur invalide."),
        "Invalid input.": _("Valeur invalide."),
        "Invalid value.": _("Valeur invalide."),
    }


def _comparisons() -> dict[str, str]:
    """marshmallow's Range: « Must be {op} {n}. »"""
    return {
        "greater than or equal to": _("supérieur ou égal à"),
        "greater than": _("strictement supérieur à"),
        "less than or equal to": _("inférieur ou égal à"),
        "less than": _("strictement inférieur à"),
    }


_OP = r"(greater than or equal to|greater than|less than or equal to|less than)"
_VALIDATION_PATTERNS = (
    ("max", re.compile(r"^Longer than maximum length (?P<max>\S+)\.$")),
    ("min", re.compile(r"^Shorter than minimum length (?P<min>\S+)\.$")),
    ("between", re.compile(r"^Length must be between (?P<min>\S+) and (?P<max>\S+)\.$")),
    ("equal", re.compile(r"^Length must be (?P<equal>\S+)\.$")),
    ("choices", re.compile(r"^Must be one of: (?P<choices>.*)\.$", re.S)),
    ("not_in", re.compile(r"^One or more of the choices you made was not in: (?P<choices>.*)\.$",
                          re.S)),
    ("in", re.compile(r"^One or more of the choices you made was in: (?P<choices>.*)\.$", re.S)),
    ("range", re.compile(rf"^Must be {_OP} (?P<min>\S+) and {_OP} (?P<max>\S+)\.$")),
    ("bound", re.compile(rf"^Must be {_OP} (?P<n>\S+)\.$")),
    ("other", re.compile(r"^Must be equal to (?P<other>.*)\.$", re.S)),
)


def _french_pattern(message: str) -> Optional[str]:
    """marshmallow's messages that carry a number or the choices: the same, in French."""
    for kind, pattern in _VALIDATION_PATTERNS:
        found = pattern.match(message)
        if found is None:
            continue
        values = found.groupdict()
        if kind == "max":
            return _("Au plus %(max)s caractères.", max=values["max"])
        if kind == "min":
            return _("Au moins %(min)s caractères.", min=values["min"])
        if kind == "between":
            return _("Entre %(min)s et %(max)s caractères.", min=values["min"],
                     max=values["max"])
        if kind == "equal":
            return _("Exactement %(n)s caractères.", n=values["equal"])
        if kind == "choices":
            return _("Une valeur parmi : %(choices)s.", choices=values["choices"])
        if kind == "not_in":
            return _("Chaque valeur doit être parmi : %(choices)s.", choices=values["choices"])
        if kind == "in":
            return _("Valeurs exclues : %(choices)s.", choices=values["choices"])
        comparisons = _comparisons()
        if kind == "range":
            return _("Doit être %(op_min)s %(min)s et %(op_max)s %(max)s.",
                     op_min=comparisons[found.group(1)], min=values["min"],
                     op_max=comparisons[found.group(3)], max=values["max"])
        if kind == "bound":
            return _("Doit être %(op)s %(n)s.", op=comparisons[found.group(1)], n=values["n"])
        if kind == "other":
            return _("Doit valoir %(other)s.", other=values["other"])
    return None


def french_validation(details: Any) -> Any:
    """{"field": ["Missing data for required field."]} → the same with French messages, the
    numbers and the choices of a length, a range or a list kept (« Longer than maximum
    length 100. » → « Au plus 100 caractères. »); a message we do not know becomes
    « Valeur invalide. » (never English)."""
    known = _validation_messages()
    if isinstance(details, dict):
        return {key: french_validation(value) for key, value in details.items()}
    if isinstance(details, (list, tuple)):
        return [french_validation(value) for value in details]
    if isinstance(details, str):
        return known.get(details) or _french_pattern(details) or _("Valeur invalide.")
    return details


def french_api_message(message: Any) -> Any:
    if not isinstance(message, str):
        return message
    exact = _fab_json_messages().get(message)
    if exact is not None:
        return exact
    for prefix, french in _fab_json_prefixes():
        if message.startswith(prefix):
            return french
    for pattern, french in _fab_json_patterns():
        found = pattern.match(message)
        if found is not None:
            return french % found.groupdict()
    if message.startswith("400 Bad Request"):
        # any other BadRequest of a view: under the API, a body it could not read
        return _unreadable_json() if request.is_json else _(
            "Requête illisible : le corps ou les paramètres sont mal formés.")
    return message


def translate_api_response(response):
    if response.status_code < 400 or not response.is_json or response.is_streamed:
        return response
    data = response.get_json(silent=True)
    if not isinstance(data, dict) or "message" not in data:
        return response
    message = data["message"]
    if isinstance(message, (dict, list)):  # marshmallow's errors of a malformed body
        data["message"] = _("Données invalides.")
        data["details"] = french_validation(message)
    else:
        french = french_api_message(message)
        if french == message:
            return response
        data["message"] = french
    response.set_data(current_app.json.dumps(data))
    return response


# --- FAB's `_info`, readable and in French -----------------------------------------------

def _api_view(endpoint: str):
    """The API instance behind an endpoint (« CandidatureApi.info »)."""
    name = endpoint.split(".", 1)[0]
    appbuilder = getattr(current_app, "appbuilder", None)
    return next((view for view in getattr(appbuilder, "baseviews", ())
                 if type(view).__name__ == name), None)


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def french_validator(validator: Any) -> Optional[str]:
    """A marshmallow validator as a French sentence (FAB's `_info` showed its Python repr,
    « <Length(min=None, max=100, equal=None, error=None)> »); None for a validator that
    says nothing to a client."""
    from marshmallow import validate as v

    if isinstance(validator, v.Length):
        low, high, equal = validator.min, validator.max, validator.equal
        if equal is not None:
            return _("Longueur : exactement %(n)s caractères", n=equal)
        if low is not None and high is not None:
            return _("Longueur : de %(min)s à %(max)s caractères", min=low, max=high)
        if high is not None:
            return _("Longueur : au plus %(max)s caractères", max=high)
        if low is not None:
            return _("Longueur : au moins %(min)s caractères", min=low)
        return None
    if isinstance(validator, v.OneOf):
        return _("Une valeur parmi : %(choices)s", choices=", ".join(
            str(choice) for choice in validator.choices))
    if isinstance(validator, v.NoneOf):
        return _("Une valeur hors de : %(values)s", values=", ".join(
            str(value) for value in validator.iterable))
    if isinstance(validator, v.Range):
        low, high = validator.min, validator.max
        parts = []
        if low is not None:
            parts.append(_("au moins %(min)s", min=_number(low)) if validator.min_inclusive
                         else _("plus de %(min)s", min=_number(low)))
        if high is not None:
            parts.append(_("au plus %(max)s", max=_number(high)) if validator.max_inclusive
                         else _("moins de %(max)s", max=_number(high)))
        return _("Valeur : %(bornes)s", bornes=", ".join(parts)) if parts else None
    if isinstance(validator, v.Email):
        return _("Une adresse e-mail valide")
    if isinstance(validator, v.URL):
        return _("Une adresse web (URL) valide")
    if isinstance(validator, v.Regexp):
        return _("Format : l'expression régulière %(motif)s", motif=validator.regex.pattern)
    if isinstance(validator, v.Equal):
        return _("Valeur : %(valeur)s", valeur=validator.comparable)
    return _("Valeur contrôlée par le serveur")


def _info_types() -> dict[str, str]:
    """marshmallow's field classes (FAB's `type` of `_info`) → what a client sends."""
    return {
        "Integer": _("Nombre entier."),
        "String": _("Texte."),
        "Date": _("Date, au format AAAA-MM-JJ."),
        "DateTime": _("Date et heure, heure légale française, sans décalage "
                      "(AAAA-MM-JJTHH:MM:SS, fractions de seconde facultatives)."),
        "Boolean": _("true ou false."),
        "Decimal": _("Nombre décimal (le point sépare les décimales)."),
        "Float": _("Nombre décimal (le point sépare les décimales)."),
        "Number": _("Nombre."),
        "Email": _("Adresse e-mail."),
        "Related": _("L'identifiant d'un élément lié (voir « values »)."),
        "RelatedList": _("Les identifiants des éléments liés (voir « values »)."),
    }


def _info_description(column: dict) -> str:
    name, kind = str(column.get("name") or ""), str(column.get("type") or "")
    if kind == "Integer" and name.endswith("_id"):
        return _("L'identifiant (nombre entier) de l'élément lié : %(libelle)s.",
                 libelle=column.get("label") or name)
    return _info_types().get(kind) or _("Valeur de type %(type)s.", type=kind)


def french_info(response):
    """GET /api/v1/<resource>/_info: each field's `validate` in French sentences, from the
    marshmallow validators themselves (« Longueur : au plus 100 caractères », « Une valeur
    parmi : M., Mme »), the fixed codes of a plain string column included (api/openapi
    .codes_fixes), and a French `description` of what to send where FAB left "". Same shape
    (base.INFO_SPEC)."""
    if not response.is_json or response.is_streamed:
        return response
    data = response.get_json(silent=True)
    if not isinstance(data, dict):
        return response
    from app.api.openapi import codes_fixes

    view = _api_view(request.endpoint or "")
    codes = codes_fixes().get(type(view).__name__, {}) if view is not None else {}
    for key, attribute in (("add_columns", "add_model_schema"),
                           ("edit_columns", "edit_model_schema")):
        fields = getattr(getattr(view, attribute, None), "fields", None) or {}
        for column in data.get(key) or ():
            if not isinstance(column, dict):
                continue
            field = fields.get(column.get("name"))
            if field is not None or "validate" in column:
                sentences = [sentence for sentence in (
                    french_validator(validator)
                    for validator in getattr(field, "validators", None) or ())
                    if sentence]
                fixed = codes.get(column.get("name"))
                if fixed:
                    sentences.append(_("Une valeur parmi : %(choices)s",
                                       choices=", ".join(fixed)))
                if sentences:
                    column["validate"] = list(dict.fromkeys(sentences))
                else:
                    column.pop("validate", None)
            if not column.get("description"):
                column["description"] = _info_description(column)
    response.set_data(current_app.json.dumps(data))
    return response


# --- flask-jwt-extended's English answers ------------------------------------------------

def init_jwt_refusals(jwt_manager) -> None:
    """Every answer of flask-jwt-extended in French: missing, invalid, expired or revoked
    token (a password change or « tous les appareils »), suspended or deleted user
    (« Error loading the user 7 »), fresh token required, failed claims."""

    def unauthorized(*_args):
        return jsonify(message=_("Authentification requise.")), 401

    def expired(*_args):
        return jsonify(message=_("Jeton expiré : reconnectez-vous.")), 401

    def ended(*_args):
        return jsonify(message=_("Session terminée (mot de passe changé ou déconnexion de "
                                 "tous les appareils) : reconnectez-vous.")), 401

    def suspended(_header, _data):
        return jsonify(message=_("Compte introuvable ou suspendu : reconnectez-vous.")), 401

    def revoked(_header, _data):
        return jsonify(message=_("Jeton révoqué : reconnectez-vous.")), 401

    def fresh(_header, _data):
        return jsonify(message=_("Cette action demande une connexion récente : "
                                 "reconnectez-vous.")), 401

    jwt_manager.unauthorized_loader(unauthorized)
    jwt_manager.invalid_token_loader(unauthorized)
    jwt_manager.expired_token_loader(expired)
    jwt_manager.revoked_token_loader(ended)
    jwt_manager.user_lookup_error_loader(suspended)
    jwt_manager.needs_fresh_token_loader(fresh)
    jwt_manager.token_verification_failed_loader(revoked)
