"""Benchmark: the xlsx writers on the same rows as the Stats export (N rows × 49 columns:
ids, names, e-mails, dates, a float, 28 « Acquis » / « Non acquis » cells).

    .venv/bin/python bench/xlsx_writers.py [nombre_de_lignes] [writer ...]

Each writer runs in its own process (so that its peak memory is its own) and writes bold
headers, dates as dates, a frozen header and an autofilter. Prints wall and CPU seconds and
the peak resident memory of each."""
from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time

COLS = 49


def header() -> list[str]:
    return [f"Colonne {i}" for i in range(COLS)]


def rows(n: int):
    base = dt.date(2026, 1, 1)
    for i in range(n):
        day = base + dt.timedelta(days=i % 300)
        yield [i + 1, f"NOM{i}", "", "Prénom", dt.date(1970, 1, 1) + dt.timedelta(days=i % 15000),
               f"c{i}@exemple.fr", "Organisme de formation", "Établissement principal",
               "Salarié", 1 + i % 8, "En attente d'évaluation finale", day, day, None, None,
               None, "préalable", "Non validé", 0.0, "", "",
               *(("Acquis" if (i + k) % 5 else "Non acquis") for k in range(28))]


def openpyxl_loop(path: str, n: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Parcours")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:AW{n + 1}"
    bold = Font(bold=True)
    cells = []
    for text in header():
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows(n):
        sheet.append(row)
    book.save(path)


def xlsxwriter_constant_memory(path: str, n: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("Parcours")
    bold = book.add_format({"bold": True})
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, n, COLS - 1)
    sheet.write_row(0, 0, header(), bold)
    for r, row in enumerate(rows(n), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date)
            else:
                sheet.write(r, c, value)
    book.close()


def rustpy(path: str, n: int) -> None:
    from rustpy_xlsxwriter import FastExcel

    names = header()
    (FastExcel(path).format(bold_headers=True, datetime_format="dd/mm/yyyy").freeze(row=1)
     .sheet("Parcours", (dict(zip(names, row)) for row in rows(n)), autofilter=True).save())


WRITERS = {"openpyxl": openpyxl_loop, "xlsxwriter": xlsxwriter_constant_memory,
           "rustpy": rustpy}


def one(name: str, n: int) -> None:
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    started, cpu = time.perf_counter(), time.process_time()
    WRITERS[name](handle.name, n)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = os.path.getsize(handle.name) / 1024 / 1024
    os.unlink(handle.name)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name:12} {n} lignes × {COLS} : {wall:6.1f} s (CPU {cpu:5.1f} s), "
          f"fichier {size:5.1f} Mo, mémoire maximale {peak:4.0f} Mo", flush=True)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if len(sys.argv) > 2 and sys.argv[2] == "--one":
        one(sys.argv[3], count)
    else:
        for writer in sys.argv[2:] or list(WRITERS):
            subprocess.run([sys.executable, __file__, str(count), "--one", writer], check=True)
