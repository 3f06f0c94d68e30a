"""The links of the pager (templates/clea/_pager.html): the current page's URL with another
page number, every other argument (the filters) kept."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import request, url_for


def page_url(number: int, param: str = "page") -> str:
    args = {key: values for key, values in request.args.lists() if key != param}
    if number > 0:
        args[param] = [str(number)]
    base = url_for(request.endpoint, **(request.view_args or {}))
    query = urlencode(args, doseq=True)
    return f"{base}?{query}" if query else base
