"""The floors the pages are measured against (bench/run.py).

- SQL floor of a page: the statements the app sent for one request (recorded by
  app/capture.py under CLEA_BENCH_CAPTURE), replayed raw with psycopg on one connection, rows
  fetched, in one transaction rolled back (writes such as the session's « last seen » are
  replayed too, then undone).
- Export floor: a bare rustpy-xlsxwriter loop (the export's writer) over the same rows.
- PDF floor: a bare reportlab canvas drawing the same text."""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Capture:
    path: str
    statements: list = field(default_factory=list)  # (sql, params, many)
    app_db_ms: float = 0.0  # time the statements took inside the app (cursor execute)

    @classmethod
    def load(cls, file: Path) -> "Capture":
        from app.capture import decode

        data = json.loads(Path(file).read_text())
        return cls(data["path"], [(s["sql"], decode(s["params"]), s["many"])
                                  for s in data["statements"]],
                   sum(s.get("ms", 0.0) for s in data["statements"]))


def _run(cursor, sql, params, many):
    if many:
        cursor.executemany(sql, params)
    else:
        cursor.execute(sql, params or None)
        if cursor.description is not None:
            cursor.fetchall()


def replayable(conn, capture: Capture) -> tuple[list, int]:
    """The statements that replay without error (each tried under a savepoint; a replayed
    INSERT may hit a unique key the original created), and how many were left out."""
    kept, left_out = [], 0
    with conn.cursor() as cursor:
        for sql, params, many in capture.statements:
            cursor.execute("SAVEPOINT bench")
            try:
                _run(cursor, sql, params, many)
            except Exception:  # noqa: BLE001  (any database refusal: left out, counted)
                cursor.execute("ROLLBACK TO SAVEPOINT bench")
                left_out += 1
            else:
                cursor.execute("RELEASE SAVEPOINT bench")
                kept.append((sql, params, many))
    conn.rollback()
    return kept, left_out


def replay(conninfo: str, capture: Capture, times: int = 7) -> dict:
    """p50/p95 (ms) of `times` replays of the capture's statements on one connection."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        kept, left_out = replayable(conn, capture)
        durations = []
        for _ in range(times):
            with conn.cursor() as cursor:
                started = time.perf_counter()
                for sql, params, many in kept:
                    _run(cursor, sql, params, many)
                durations.append((time.perf_counter() - started) * 1000)
            conn.rollback()
    return {"p50": statistics.median(durations), "p95": percentile(durations, 95),
            "statements": len(kept), "left_out": left_out}


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def bare_xlsx(headers: list, rows: list, path: str) -> float:
    """Seconds for rustpy-xlsxwriter, the export's writer, to write `rows` (lists, in memory)
    with the export's formatting (bold headers, dates as dates, frozen and filtered header):
    the writer bare, without the application around it."""
    from rustpy_xlsxwriter import FastExcel

    started = time.perf_counter()
    (FastExcel(path).format(bold_headers=True, datetime_format="dd/mm/yyyy").freeze(row=1)
     .sheet("Parcours", (dict(zip(headers, row)) for row in rows), autofilter=True).save())
    return time.perf_counter() - started


def bare_pdf(lines: list[str], path: str) -> float:
    """Seconds for a bare reportlab canvas to draw `lines` on one A4 page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    started = time.perf_counter()
    page = canvas.Canvas(path, pagesize=A4)
    y = A4[1] - 72
    for line in lines:
        page.drawString(72, y, line)
        y -= 16
    page.showPage()
    page.save()
    return time.perf_counter() - started
