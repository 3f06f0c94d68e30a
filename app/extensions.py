"""Extension objects, created bare and initialised by the app factory.

The AppBuilder itself is created per application in `create_app()` so tests can build
several apps; it is reachable as `current_app.appbuilder`.
"""
from flask_appbuilder.models.sqla.base import SQLA
from flask_mail import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = SQLA()
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
