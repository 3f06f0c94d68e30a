"""Absolute addresses of the platform. Behind a proxy the request's host is an internal
address, so links that leave the platform come from configuration:

- `CLEA_PUBLIC_URL`: the address the public reaches — printed on certificates (verification
  link and QR code) and procès-verbaux; defaults to `CLEA_BASE_URL`;
- `CLEA_BASE_URL`: the address users reach — links in e-mails; defaults to `CLEA_PUBLIC_URL`.

When neither is set (development), the current request's host is used, or the address of
`make run` outside a request (jobs, CLI)."""
from __future__ import annotations

from flask import current_app, has_request_context, request

DEV_URL = "http://127.0.0.1:8080/"


def _base(*keys: str) -> str:
    for key in keys:
        value = (current_app.config.get(key) or "").strip()
        if value:
            return value
    return request.host_url if has_request_context() else DEV_URL


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def public_url(path: str) -> str:
    """An address printed for the public (certificates, procès-verbaux)."""
    return _join(_base("CLEA_PUBLIC_URL", "CLEA_BASE_URL"), path)


def platform_url(path: str) -> str:
    """An address for the platform's users (links in e-mails)."""
    return _join(_base("CLEA_BASE_URL", "CLEA_PUBLIC_URL"), path)
