"""The bench's SQL capture (app/capture.py, CLEA_BENCH_CAPTURE): a page reports how many SQL
statements it sent, and the recorded statements replay raw with psycopg (the page's floor in
bench/REPORT.md); with the switch off (the default) nothing is counted nor written."""
from __future__ import annotations

import pytest

from app.capture import ASK_HEADER, COUNT_HEADER, ID_HEADER, decode, encode

on_postgres = pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def app_overrides(tmp_path):
    return {"CLEA_BENCH_CAPTURE": True, "CLEA_BENCH_CAPTURE_DIR": str(tmp_path / "capture")}


@on_postgres
def test_a_page_counts_its_statements_and_they_replay_raw(app, login, count_queries, tmp_path):
    from bench.floor import Capture, replay

    client = login("admin_reseau_a")
    with count_queries() as counter:
        response = client.get("/recherche/?q=te", headers={ASK_HEADER: "1"})
    assert response.status_code == 200
    assert int(response.headers[COUNT_HEADER]) == counter.count > 0
    capture = Capture.load(tmp_path / "capture" / f"{response.headers[ID_HEADER]}.json")
    assert capture.path == "/recherche/?q=te"
    assert [sql for sql, _params, _many in capture.statements] == counter.statements

    url = app.config["TEST_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    floor = replay(url, capture, times=2)
    assert floor["statements"] == counter.count and floor["left_out"] == 0

    # without the request header: counted, not written
    response = client.get("/recherche/?q=te")
    assert COUNT_HEADER in response.headers and ID_HEADER not in response.headers


@on_postgres
@pytest.mark.parametrize("app_overrides", [{}])
def test_off_by_default_no_header(app, login):
    response = login("admin_reseau_a").get("/", headers={ASK_HEADER: "1"})
    assert response.status_code == 200
    assert COUNT_HEADER not in response.headers and ID_HEADER not in response.headers


def test_parameters_come_back_as_the_same_values():
    import datetime as dt
    import decimal

    values = {"a": dt.datetime(2026, 1, 2, 3, 4, 5), "b": dt.date(2026, 1, 2), "c": (1, "x"),
              "d": [decimal.Decimal("1.50"), None, True], "e": b"\x00\xff"}
    assert decode(encode(values)) == values
