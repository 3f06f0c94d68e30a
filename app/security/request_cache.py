"""Values computed once per request (DESIGN.md §10: the user's permissions are loaded once per
request, gates such as the habilitation check are computed once). Outside a request (CLI,
jobs, tests calling services) nothing is kept: every call computes afresh."""
from __future__ import annotations

from typing import Any, Callable, Hashable

from flask import has_request_context, request

# Kept in the request's WSGI environ: it lives exactly as long as the request, even where an
# application context outlives several requests (tests, a long-running process).
_STORE = "clea.per_request"


def per_request(key: Hashable, compute: Callable[[], Any]) -> Any:
    """compute() the first time `key` is asked during this request, the same value after."""
    if not has_request_context():
        return compute()
    store = request.environ.setdefault(_STORE, {})
    if key not in store:
        store[key] = compute()
    return store[key]


def remember(key: Hashable, value: Any) -> None:
    """Keep `value` for `key` for the rest of this request (read with another value)."""
    if has_request_context():
        request.environ.setdefault(_STORE, {})[key] = value


def forget(kind: str) -> None:
    """Drop this request's values of one kind (keys are tuples starting with `kind`), after a
    write that changes them."""
    if not has_request_context():
        return
    store = request.environ.get(_STORE)
    if store:
        for key in [k for k in store if isinstance(k, tuple) and k and k[0] == kind]:
            del store[key]
