"""gunicorn's configuration for production (README « Production », DESIGN §12):

    gunicorn -c gunicorn.conf.py run:app

Every setting reads the environment with a default fit for a 2-core machine; a command-line
option (e.g. `--bind`, `--workers`) overrides this file. Several such servers may run side by
side: they share nothing but PostgreSQL (DATABASE_URL) and Redis (CLEA_REDIS_URL)."""
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where to listen: behind the HTTPS reverse proxy, on the loopback by default.
bind = os.environ.get("CLEA_BIND", "127.0.0.1:8000")

# One process per core, each with a few threads: a request waiting on PostgreSQL does not
# hold a whole process (gthread workers; the application is thread-safe: one SQLAlchemy
# session per request).
worker_class = "gthread"
workers = _int("CLEA_WORKERS", os.cpu_count() or 2)
threads = _int("CLEA_THREADS", 4)

# A request that runs longer than this is killed and its worker restarted. Long exports run
# in the background; the rest stays far below. Keep the proxy's read timeout above it.
timeout = _int("CLEA_TIMEOUT", 120)
# On a restart or stop, requests in flight get this long to finish.
graceful_timeout = _int("CLEA_GRACEFUL_TIMEOUT", 30)
# Idle keep-alive connections from the proxy are kept this long.
keepalive = 5

# Each worker is replaced after about this many requests (the jitter spreads the restarts so
# that the workers are not all replaced at once): memory fragmentation does not accumulate.
max_requests = _int("CLEA_MAX_REQUESTS", 2000)
max_requests_jitter = _int("CLEA_MAX_REQUESTS_JITTER", 200)

# The application is built once in the master (faster start, shared memory pages); each
# worker then drops the database and Redis connections it inherited (post_fork).
preload_app = True

# No control socket (gunicornc): its one default path would be shared by every server of the
# machine. Restarts go through signals (HUP, TERM) from the service manager.
control_socket_disable = True

# The heartbeat files in memory, not on a possibly slow disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Access log on stdout, one line per request: client, request line, status, bytes, duration
# in milliseconds, referrer, browser. Errors on stderr.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("CLEA_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'


def post_fork(server, worker):
    """A worker must not share the master's connections (preload_app): SQLAlchemy's pools
    are emptied without closing the master's sockets, and the Redis client is rebuilt."""
    from app.extensions import db
    from app.services import partage

    application = server.app.wsgi()
    with application.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
    partage.apres_fork(application)
