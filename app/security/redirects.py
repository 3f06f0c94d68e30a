"""Where a `next` (or any caller-given address) may send the browser: a path of the platform
only, never another site (no open redirect). The one check for every such parameter."""
from __future__ import annotations

import unicodedata
from typing import Optional
from urllib.parse import urlsplit


def is_local_path(url: Optional[str]) -> bool:
    """`/dossiers/?page=2` yes; `https://evil.example/`, `//evil.example`, `/\\evil.example`,
    `javascript:…`, `evil.example`, control characters: no. Browsers read a backslash as a
    slash, so `/\\x` is refused like `//x` (FAB's own check lets it through)."""
    if not url or not url.startswith("/") or "\\" in url:
        return False
    if url.startswith("//"):
        return False
    if any(unicodedata.category(char)[0] == "C" for char in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def local_url(url: Optional[str], fallback: str) -> str:
    """`url` when it is a path of the platform, else `fallback`."""
    return url if is_local_path(url) else fallback
