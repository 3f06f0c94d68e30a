"""Extension objects, created bare and initialised by the app factory.

The AppBuilder itself is created per application in `create_app()` so tests can build
several apps; it is reachable as `current_app.appbuilder`.
"""
import weakref

from flask_appbuilder.models.sqla.base import SQLA
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect


class WeakCSRFProtect(CSRFProtect):
    """CSRFProtect whose exempted blueprints (the REST APIs, see init_appbuilder) are held
    weakly. The one `csrf` serves every application the process builds; a plain set kept each
    app's blueprints, hence its views and the whole app, alive for ever (the tests build an
    app per test: 20 000 objects more per test, and the garbage collector's full passes
    grew to seconds). The app itself holds its blueprints, so its exemptions stay."""

    def __init__(self, app=None):
        super().__init__(app)
        self._exempt_blueprints = weakref.WeakSet()


db = SQLA()
migrate = Migrate()
mail = Mail()
csrf = WeakCSRFProtect()
