"""How a stored or generated file is served, for the screens and the API alike: always as an
attachment (a PDF may be shown inline by the API's certificate route), with its checked type,
`X-Content-Type-Options: nosniff` (the browser never guesses another type) and a sandboxing
Content-Security-Policy (even opened directly, the file runs nothing)."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Union

from flask import send_file

INLINE_TYPES = {"application/pdf", "image/jpeg", "image/png"}


def fichier(source: Union[Path, bytes], name: str, mimetype: str, inline: bool = False):
    body = io.BytesIO(source) if isinstance(source, bytes) else source
    response = send_file(body, mimetype=mimetype, download_name=name,
                         as_attachment=not (inline and mimetype in INLINE_TYPES))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
