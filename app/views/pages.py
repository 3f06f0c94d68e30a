"""The links of the pager (templates/clea/_pager.html): the current page's URL with another
page number (or, on a keyset list, another cursor), every other argument (the filters) kept."""
from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode

from flask import request, url_for

from app.services.pages import KEYSET_ARGS


def _url(drop: tuple, extra: dict) -> str:
    args = {key: values for key, values in request.args.lists() if key not in drop}
    args.update({key: [value] for key, value in extra.items()})
    base = url_for(request.endpoint, **(request.view_args or {}))
    query = urlencode(args, doseq=True)
    return f"{base}?{query}" if query else base


def page_url(number: int, param: str = "page") -> str:
    return _url((param,), {param: str(number)} if number > 0 else {})


def keyset_url(arg: Optional[str] = None, value: Optional[str] = None) -> str:
    """A keyset list's page: `apres`/`avant` a cursor, `fin`, or the first page (no arg)."""
    return _url(KEYSET_ARGS, {arg: value} if arg else {})


_NO_ID = 98765432109  # past any id (ids stop at 2**31 - 1): found once in the URL it is put in


def pk_url(endpoint: str):
    """pk → the URL of `endpoint` for that row, url_for built once: a list page links each of
    its rows to one to three endpoints, and url_for costs as much as the rest of the row."""
    head, tail = url_for(endpoint, pk=_NO_ID).split(str(_NO_ID), 1)
    return lambda pk: f"{head}{int(pk)}{tail}"
