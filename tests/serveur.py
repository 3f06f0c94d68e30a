"""A Flask app served by werkzeug in a daemon thread, for the tests that need a real HTTP
server (the browser journeys, the API guide's script)."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def servir(app, name: str = "clea-test-server") -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1; yields its base URL, stops it after."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
