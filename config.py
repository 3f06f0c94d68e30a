"""Configuration read from the environment (12-factor).

Every setting has a safe default for `make run` on a laptop: SQLite under instance/,
e-mails stored in the outbox table instead of being sent.
"""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CLEA_INSTANCE_DIR", BASE_DIR / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a random key kept in instance/ (dev only)."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "oui", "on")


class Config:
    APP_NAME = "Plateforme CléA"
    APP_ICON = "/static/clea/logo-clea.svg"
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'clea.db'}"
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # French first; English stays available from the language menu.
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_FOLDER = str(BASE_DIR / "translations")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {
        "fr": {"flag": "fr", "name": "Français"},
        "en": {"flag": "gb", "name": "English"},
    }

    # Flask-AppBuilder
    FAB_UPDATE_PERMS = False  # permissions are synced by `flask clea init`, not by each worker
    FAB_CREATE_DB = False  # Alembic owns the schema
    FAB_ADD_SECURITY_VIEWS = True
    FAB_INDEX_VIEW = "app.views.home.AccueilView"
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.CleaSecurityManager"
    FAB_BASE_TEMPLATE = "clea/baselayout.html"
    FAB_API_SWAGGER_UI = True
    FAB_API_MAX_PAGE_SIZE = 100
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    # FAB_PASSWORD_COMPLEXITY_VALIDATOR is set by create_app (services.passwords)
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "Admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per 20 second")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # The public certificate check: numbers are sequential, so one address may not walk them
    CLEA_VERIFY_RATE_LIMIT = os.environ.get("CLEA_VERIFY_RATE_LIMIT", "30 per minute")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Lock an account for 15 minutes after 5 consecutive failed logins
    CLEA_MAX_LOGIN_FAILURES = 5
    CLEA_LOCKOUT_MINUTES = 15
    # Single-use links: first connection 72 h, password reset 24 h
    CLEA_INVITATION_HOURS = 72
    CLEA_RESET_HOURS = 24

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    JWT_ACCESS_TOKEN_EXPIRES = 3600

    # E-mail: SMTP when MAIL_SERVER is set, else stored in the outbox table only.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USE_SSL = _bool("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Plateforme CléA <no-reply@certificat-clea.fr>")
    CLEA_SUPPORT_EMAIL = os.environ.get("CLEA_SUPPORT_EMAIL", "support-clea@certif-pro.fr")
    CLEA_SECRETARIAT_EMAIL = os.environ.get("CLEA_SECRETARIAT_EMAIL", "secretariat@certif-pro.fr")
    # Absolute addresses (services/urls.py). CLEA_PUBLIC_URL is what the public reaches, printed
    # on certificates (verification link, QR code) and procès-verbaux; CLEA_BASE_URL is what
    # users reach, used in e-mailed links. Each defaults to the other; with neither (development)
    # the request's host is used. Behind a proxy, set CLEA_PUBLIC_URL.
    CLEA_BASE_URL = os.environ.get("CLEA_BASE_URL", "").strip()
    CLEA_PUBLIC_URL = os.environ.get("CLEA_PUBLIC_URL", "").strip() or CLEA_BASE_URL

    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    UPLOAD_FOLDER = UPLOAD_DIR
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    # Archives (XLSX, DOCX, ODT are zip containers) are opened before acceptance
    # (services/inspection.py): at most this many members, this many bytes once decompressed
    # in all (counted while decompressing, not only as declared), and each member compressed
    # at most this many times; beyond, the file is refused as a zip bomb.
    CLEA_ARCHIVE_MAX_MEMBERS = int(os.environ.get("CLEA_ARCHIVE_MAX_MEMBERS", "1000"))
    CLEA_ARCHIVE_MAX_BYTES = int(os.environ.get("CLEA_ARCHIVE_MAX_BYTES", str(50 * 1024 * 1024)))
    CLEA_ARCHIVE_MAX_RATIO = int(os.environ.get("CLEA_ARCHIVE_MAX_RATIO", "100"))
    # The « balayer_fichiers » job erases a file of UPLOAD_DIR that no row names only once it
    # is older than this (seconds): an upload in flight is never swept (services/stockage.py).
    CLEA_ORPHAN_AGE_SECONDS = int(os.environ.get("CLEA_ORPHAN_AGE_SECONDS", "3600"))

    CLEA_REFERENTIEL_FILE = str(BASE_DIR / "app" / "data" / "referentiel-clea-socle.json")
    CLEA_SECURITY_HEADERS = True


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_SERVER = None
    SERVER_NAME = None
