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


def _served_over_https() -> bool:
    """True when the platform's configured address (CLEA_PUBLIC_URL or CLEA_BASE_URL) is https."""
    return any(os.environ.get(name, "").strip().lower().startswith("https://")
               for name in ("CLEA_PUBLIC_URL", "CLEA_BASE_URL"))


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
    # The store shared by every app server (services/partage.py, DESIGN §12), e.g.
    # redis://127.0.0.1:6379/0. Set: the rate limits, the login-attempt counters and the live
    # sessions' check are in Redis, the same for every worker of every server. Unset (make run,
    # one process): counters and sessions in the database, rate limits counted in memory.
    CLEA_REDIS_URL = os.environ.get("CLEA_REDIS_URL", "").strip()
    # Flask-Limiter's counters: CLEA_REDIS_URL's Redis unless given (memory:// counts per
    # worker process, so only for a single-process server)
    RATELIMIT_STORAGE_URI = (os.environ.get("RATELIMIT_STORAGE_URI", "").strip()
                             or CLEA_REDIS_URL or "memory://")
    # Progressive login delay (services/tentatives.py), counted in the shared store (Redis, else
    # the database) so every app server shares it. After CLEA_LOGIN_FAILURES_FREE failures for
    # one login from one address, further attempts from that address (only) wait
    # CLEA_LOGIN_DELAY_SECONDS, then twice as long after each further failure, up to
    # CLEA_LOGIN_DELAY_MAX_SECONDS; the same from CLEA_LOGIN_IP_FAILURES_FREE failures from one
    # address, all logins together. Counters forget after CLEA_LOGIN_FAILURES_WINDOW_MINUTES
    # without a failure.
    CLEA_LOGIN_FAILURES_FREE = int(os.environ.get("CLEA_LOGIN_FAILURES_FREE", "5"))
    CLEA_LOGIN_IP_FAILURES_FREE = int(os.environ.get("CLEA_LOGIN_IP_FAILURES_FREE", "30"))
    CLEA_LOGIN_DELAY_SECONDS = int(os.environ.get("CLEA_LOGIN_DELAY_SECONDS", "2"))
    CLEA_LOGIN_DELAY_MAX_SECONDS = int(os.environ.get("CLEA_LOGIN_DELAY_MAX_SECONDS", "300"))
    CLEA_LOGIN_FAILURES_WINDOW_MINUTES = int(
        os.environ.get("CLEA_LOGIN_FAILURES_WINDOW_MINUTES", "60"))
    # « Mot de passe oublié »: at most this many e-mails per account and requests per address
    # an hour (beyond, the page answers the same and no e-mail is sent)
    CLEA_RESET_PER_ACCOUNT = int(os.environ.get("CLEA_RESET_PER_ACCOUNT", "3"))
    CLEA_RESET_PER_ADDRESS = int(os.environ.get("CLEA_RESET_PER_ADDRESS", "10"))
    # Server-side sessions (services/sessions.py): a session ends after this many minutes
    # without a request, and this many hours after the login whatever the activity
    CLEA_SESSION_IDLE_MINUTES = int(os.environ.get("CLEA_SESSION_IDLE_MINUTES", "120"))
    CLEA_SESSION_MAX_HOURS = int(os.environ.get("CLEA_SESSION_MAX_HOURS", "12"))
    # The password policy refuses the last N passwords of the user (the current one included)
    # A habilitation decided for longer than this asks Certif Pro to confirm the duration.
    HABILITATION_DUREE_USUELLE_MOIS = int(os.environ.get("CLEA_HABILITATION_DUREE_MOIS", "36"))
    CLEA_PASSWORD_HISTORY = int(os.environ.get("CLEA_PASSWORD_HISTORY", "5"))
    # How passwords are hashed (werkzeug's generate_password_hash method; services.passwords.
    # hash_password): scrypt, deliberately slow. Not read from the environment: only the test
    # configuration lowers it (TestConfig)
    CLEA_PASSWORD_HASH_METHOD = "scrypt"
    # Two-factor login (TOTP, services/deux_facteurs.py): mandatory for Certif Pro and
    # Administrateur réseau when set (they must enrol after the password, before anything else);
    # the « Code de vérification » step lasts CLEA_2FA_LOGIN_SECONDS and allows
    # CLEA_2FA_MAX_TRIES wrong codes (per login, and per account over that period)
    CLEA_2FA_REQUIRED = _bool("CLEA_2FA_REQUIRED", False)
    CLEA_2FA_LOGIN_SECONDS = int(os.environ.get("CLEA_2FA_LOGIN_SECONDS", "300"))
    CLEA_2FA_MAX_TRIES = int(os.environ.get("CLEA_2FA_MAX_TRIES", "5"))
    # Single-use links: first connection 72 h, password reset 24 h
    CLEA_INVITATION_HOURS = 72
    CLEA_RESET_HOURS = 24

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Session cookie sent over HTTPS only: on by default when CLEA_PUBLIC_URL / CLEA_BASE_URL
    # is https://; every request that arrives over HTTPS gets it anyway (app.init_https).
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", _served_over_https())
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed
    # (0: none, the headers are ignored; 1: one nginx/Apache/load balancer...).
    CLEA_TRUSTED_PROXIES = int(os.environ.get("CLEA_TRUSTED_PROXIES", "0") or 0)
    # Redirect plain HTTP requests to HTTPS (behind a proxy, needs CLEA_TRUSTED_PROXIES).
    CLEA_FORCE_HTTPS = _bool("CLEA_FORCE_HTTPS", False)
    # Strict-Transport-Security max-age sent on HTTPS responses (seconds; 0: no HSTS).
    CLEA_HSTS_MAX_AGE = int(os.environ.get("CLEA_HSTS_MAX_AGE", str(365 * 24 * 3600)) or 0)
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
    # Personal data (RGPD, services/rgpd.py). Where people exercise their rights (access,
    # rectification, erasure...): shown on the « Données personnelles » page and in exports.
    CLEA_DPO_EMAIL = os.environ.get("CLEA_DPO_EMAIL", "") or CLEA_SUPPORT_EMAIL
    # Retention, applied every day by the `retention` job (`flask clea retention --dry-run`
    # says what it would do). A person whose every dossier is abandoned is anonymised this
    # many years after the last abandonment:
    CLEA_RETENTION_ABANDON_ANNEES = int(os.environ.get("CLEA_RETENTION_ABANDON_ANNEES", "5"))
    # Refused rattachement requests are deleted this many days after the decision:
    CLEA_RETENTION_RATTACHEMENT_JOURS = int(
        os.environ.get("CLEA_RETENTION_RATTACHEMENT_JOURS", "365"))
    # E-mails of the outbox (sent, failed or stored) are deleted this many days after writing:
    CLEA_RETENTION_EMAILS_JOURS = int(os.environ.get("CLEA_RETENTION_EMAILS_JOURS", "365"))
    # First-connection and reset links are deleted this many days after they expired:
    CLEA_RETENTION_LIENS_JOURS = int(os.environ.get("CLEA_RETENTION_LIENS_JOURS", "365"))
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
    # Exports prepared off the request (services/exports.py): a ready export's file is kept
    # this many hours (then « expirée », its file erased), and the scheduler process looks for
    # waiting exports every CLEA_EXPORT_INTERVAL_SECONDS.
    CLEA_EXPORT_HEURES = int(os.environ.get("CLEA_EXPORT_HEURES", "24"))
    CLEA_EXPORT_INTERVAL_SECONDS = int(os.environ.get("CLEA_EXPORT_INTERVAL_SECONDS", "5"))

    # The platform's signature on the certificates it generates (services/signature.py): a key
    # and its certificate, PEM files. Where neither exists, `flask clea init` (or the first
    # certificate) creates a self-signed development pair there, which the verification page
    # then calls a development signature; in production, give a pair issued for Certif Pro.
    CLEA_SIGNATURE_CLE = os.environ.get("CLEA_SIGNATURE_CLE",
                                        str(INSTANCE_DIR / "signature" / "cle.pem"))
    CLEA_SIGNATURE_CERTIFICAT = os.environ.get(
        "CLEA_SIGNATURE_CERTIFICAT", str(INSTANCE_DIR / "signature" / "certificat.pem"))

    # The Ed25519 key that signs the certificates' Open Badges credentials (services/
    # credential.py), published with Certif Pro's profile at /issuer; created where missing
    CLEA_CREDENTIAL_CLE = os.environ.get("CLEA_CREDENTIAL_CLE",
                                         str(INSTANCE_DIR / "signature" / "ed25519.pem"))

    CLEA_REFERENTIEL_FILE = str(BASE_DIR / "app" / "data" / "referentiel-clea-socle.json")
    # The invoicing's tariffs per act, dated (services/tarifs.py reads and checks them)
    CLEA_TARIFS_FILE = os.environ.get("CLEA_TARIFS_FILE",
                                      str(BASE_DIR / "app" / "data" / "tarifs.json"))
    CLEA_SECURITY_HEADERS = True
    # Bench only (`make bench`, app/capture.py), never in production: count each request's SQL
    # statements in an X-Clea-SQL-Statements header, and write those of a request sent with
    # X-Clea-Bench-Capture: 1 (parameters included) to CLEA_BENCH_CAPTURE_DIR for replay
    CLEA_BENCH_CAPTURE = _bool("CLEA_BENCH_CAPTURE", False)
    CLEA_BENCH_CAPTURE_DIR = os.environ.get("CLEA_BENCH_CAPTURE_DIR") or None


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    AUTH_RATE_LIMITED = False
    # A test asks for Redis explicitly (the redis_server fixture), whatever the environment
    CLEA_REDIS_URL = ""
    RATELIMIT_STORAGE_URI = "memory://"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    MAIL_SERVER = None
    SERVER_NAME = None
    # Cheap hashes for the test world's accounts and logins (a scrypt check costs 0.1-0.25 s
    # on 2 cores, and the suite logs in thousands of times); the unknown-login dummy check
    # costs the same. The production hashing (scrypt) is checked by
    # tests/integration/test_password_hashing.py and by every browser test's login.
    CLEA_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    AUTH_DB_FAKE_PASSWORD_HASH_CHECK = (
        "pbkdf2:sha256:1000$GlxKcN9dgbTwsFf4$a9b845429eb007b2d4656b21"
        "f1786270855a8aef69eb51ca3417547603f888c2")
