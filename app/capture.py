"""Bench-only SQL capture (`make bench`, bench/run.py): off unless CLEA_BENCH_CAPTURE is set.

When on, every response carries `X-Clea-SQL-Statements`, the number of SQL statements its
request sent to the database. A request that also carries `X-Clea-Bench-Capture: 1` gets its
statements, with their parameters, written to CLEA_BENCH_CAPTURE_DIR/<id>.json (the id in
the response's `X-Clea-Bench-Capture-Id`), so that the bench replays exactly them raw with
psycopg: the page's SQL floor. Never turn it on in production: it writes the parameters
(personal data) of the requests that ask for it to disk."""
from __future__ import annotations

import datetime as dt
import decimal
import json
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request

COUNT_HEADER = "X-Clea-SQL-Statements"
ASK_HEADER = "X-Clea-Bench-Capture"
ID_HEADER = "X-Clea-Bench-Capture-Id"


def init_capture(app: Flask) -> None:
    if not app.config.get("CLEA_BENCH_CAPTURE"):
        return
    from sqlalchemy import event

    from .extensions import db

    folder = Path(app.config.get("CLEA_BENCH_CAPTURE_DIR") or Path(app.instance_path)
                  / "bench-capture")
    folder.mkdir(parents=True, exist_ok=True)

    @app.before_request
    def _start():
        g.clea_sql_count = 0
        g.clea_sql = [] if request.headers.get(ASK_HEADER) == "1" else None

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn, _cursor, statement, parameters, _context, executemany):
        if not has_request_context() or "clea_sql_count" not in g:
            return
        g.clea_sql_count += 1
        if g.clea_sql is not None:
            g.clea_sql.append({"sql": statement, "params": encode(parameters),
                               "many": bool(executemany), "t0": time.perf_counter()})

    @event.listens_for(engine, "after_cursor_execute")
    def _after(*_args):
        if has_request_context() and g.get("clea_sql"):
            last = g.clea_sql[-1]
            last["ms"] = round((time.perf_counter() - last.pop("t0")) * 1000, 3)

    @app.after_request
    def _report(response):
        if "clea_sql_count" not in g:
            return response
        response.headers[COUNT_HEADER] = str(g.clea_sql_count)
        if g.clea_sql is not None:
            ident = uuid.uuid4().hex
            for entry in g.clea_sql:
                entry.pop("t0", None)
            (folder / f"{ident}.json").write_text(json.dumps(
                {"path": request.full_path, "statements": g.clea_sql}))
            response.headers[ID_HEADER] = ident
        return response


def encode(value: Any) -> Any:
    """Parameters as JSON that decode() turns back into the same Python values."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"__list__": [encode(v) for v in value], "tuple": isinstance(value, tuple)}
    if isinstance(value, dt.datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, dt.date):
        return {"__date__": value.isoformat()}
    if isinstance(value, dt.time):
        return {"__time__": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"__decimal__": str(value)}
    if isinstance(value, uuid.UUID):
        return {"__uuid__": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"__bytes__": bytes(value).hex()}
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__list__" in value:
            items = [decode(v) for v in value["__list__"]]
            return tuple(items) if value.get("tuple") else items
        (kind, text), = value.items()
        return {"__datetime__": dt.datetime.fromisoformat, "__date__": dt.date.fromisoformat,
                "__time__": dt.time.fromisoformat, "__decimal__": decimal.Decimal,
                "__uuid__": uuid.UUID, "__bytes__": bytes.fromhex}[kind](text)
    return value
