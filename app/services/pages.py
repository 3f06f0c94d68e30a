"""Pages of a list: how every custom list counts, slices and numbers its rows, so that the
pages and the API page the same way (and the scale work can change it in one place).

Two ways of paging:
- `paginate` (the small lists: sessions, notifications, journal…): OFFSET pages and an
  exact count;
- `keyset` (the big lists: Évaluations, Candidatures abandonnées): the page after (or
  before) a cursor — the sort key of the last (first) row shown, carried in the URL — read
  from the index that matches the list's order, and counts capped at what the pager shows
  (LOOKAHEAD pages), so that no page view counts the whole perimeter. A figure is shown as
  exact only when it was counted exactly; beyond the cap the pager says « plus de … ».
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

from sqlalchemy import Select, func, select, tuple_

from app.extensions import db

LOOKAHEAD = 10  # pages a capped count looks ahead (and behind) of the page shown
# The URL arguments of a keyset list: the page after / before a cursor, the last page.
APRES, AVANT, FIN = "apres", "avant", "fin"
KEYSET_ARGS = (APRES, AVANT, FIN, "page")


@dataclass
class Page:
    """One page of a list; `number` counts from 0 (the `page` argument of the URL), None when
    the page's position is not known exactly (a keyset page far from the start). `total` is
    the exact number of rows, None when there are more than `at_least`."""

    rows: list
    number: Optional[int]
    size: int
    total: Optional[int]
    at_least: int = 0
    first: Optional[int] = None  # 0-based position of the first row, when known exactly
    keyset: bool = False
    previous_cursor: Optional[str] = None
    next_cursor: Optional[str] = None
    more_after: Optional[bool] = None
    more_before: Optional[bool] = None

    @property
    def exact(self) -> bool:
        return self.total is not None

    @property
    def pages(self) -> int:
        """The number of pages (exact total), else the number of pages there are more than."""
        if self.total is None:
            return self.at_least // self.size
        return max((self.total + self.size - 1) // self.size, 1)

    @property
    def last(self) -> int:
        return self.pages - 1

    @property
    def has_previous(self) -> bool:
        if self.more_before is not None:
            return self.more_before
        return bool(self.number)

    @property
    def has_next(self) -> bool:
        if self.more_after is not None:
            return self.more_after
        return self.number < self.last

    @property
    def several(self) -> bool:
        """The pager is shown."""
        return self.has_previous or self.has_next

    @property
    def aligned(self) -> bool:
        """The page is page `number` of the list as numbered from its start."""
        return self.number is not None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


MAX_PAGE = 10 ** 6  # beyond any list: a larger number is read as past the end


def page_number(value: Any) -> int:
    """The page asked for (0 when missing or not a number; at most MAX_PAGE)."""
    try:
        return min(max(int(value), 0), MAX_PAGE)
    except (TypeError, ValueError):
        return 0


def paginate(query: Select, number: Any, size: int, options: Iterable = (),
             scalars: bool = True, clamp: bool = True) -> Page:
    """Count the rows of `query`, then load page `number`. A screen asking past the end (a
    row was just moved or deleted) shows the last page (`clamp`); the API answers an empty
    page there, so that a client reading page after page stops. `options` (eager loads)
    apply to the rows only, not to the count."""
    number = page_number(number)
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    page = Page([], number, size, total)
    if clamp:
        page.number = min(number, page.last)
    rows_query = query.options(*options).offset(page.number * size).limit(size)
    result = db.session.execute(rows_query)
    page.rows = list(result.scalars().unique() if scalars else result.all())
    return page


# --- keyset pages ------------------------------------------------------------------------

def count_capped(query: Select, cap: int) -> tuple[int, bool]:
    """(n, exact): the number of rows of `query` when at most `cap`, else (cap, False)
    — "more than cap" — reading at most cap + 1 rows."""
    n = db.session.execute(select(func.count()).select_from(
        query.limit(cap + 1).subquery())).scalar_one()
    return (n, True) if n <= cap else (cap, False)


def encode(values: Sequence[Any]) -> str:
    return "_".join(v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else str(v)
                    for v in values)


def decode(cursor: Any, columns: Sequence) -> Optional[tuple]:
    """The sort key in a cursor (None when it is not one: the list starts again)."""
    parts = str(cursor or "").split("_")
    if len(parts) != len(columns):
        return None
    values = []
    try:
        for part, column in zip(parts, columns):
            kind = column.type.python_type
            if kind is dt.datetime:
                values.append(dt.datetime.fromisoformat(part))
            elif kind is dt.date:
                values.append(dt.date.fromisoformat(part))
            else:
                values.append(kind(part))
    except (ValueError, TypeError, NotImplementedError):
        return None
    return tuple(values)


def _past_the_end(before: Select, number: Optional[int], size: int, cap: int) -> Page:
    """An empty page after the last row (`clamp=False`): the rows before it, counted up to
    `cap` (exact when there are no more)."""
    n, exact = count_capped(before, cap)
    return Page([], number, size, n if exact else None, at_least=n,
                first=n if exact else None, keyset=True, more_after=False,
                more_before=n > 0)


def keyset(query: Select, order: Sequence, args: Mapping, size: int,
           options: Iterable = (), lookahead: Optional[int] = None,
           clamp: bool = True) -> Page:
    """One page of `query` in the order of `order` (columns, all descending, the last one
    unique: e.g. updated_on, id), chosen by the URL arguments: `apres` (the page after a
    cursor), `avant` (the page before it), `fin` (the last page), `page` (the old numbered
    URLs: OFFSET, a past-the-end number shows the last page), none (the first page).
    At most three statements: the rows and two capped counts (before and from the page);
    one more for an old numbered page (the position of its first row).
    A screen asking past the end (a row was just moved or deleted) shows the last page
    (`clamp`); the API answers an empty page there (`clamp=False`), with the rows counted
    before it, so that a client reading page after page stops."""
    key = tuple_(*order)
    desc = [c.desc() for c in order]
    asc = [c.asc() for c in order]
    base = query.order_by(None)

    def rows(q: Select) -> list:
        return list(db.session.execute(q.options(*options)).scalars().unique())

    def cursor(row) -> tuple:
        return tuple(getattr(row, c.key) for c in order)

    def ids(q: Select) -> Select:
        return q.with_only_columns(*order, maintain_column_froms=True)

    def at_offset(o: int) -> list:
        """The rows from position o: the OFFSET walks the order's columns only (an index-only
        scan), then the page is read from the row found there, as a keyset page is (the rows
        skipped are never fetched: 25 000 of them cost 280 ms at a million dossiers)."""
        if not o:
            return rows(base.order_by(*desc).limit(size + 1))
        start = db.session.execute(ids(base).order_by(*desc).offset(o).limit(1)).first()
        if start is None:
            return []
        return rows(base.where(key <= tuple(start)).order_by(*desc).limit(size + 1))

    lookahead = LOOKAHEAD if lookahead is None else lookahead
    cap = lookahead * size
    number: Optional[int] = None
    before: Optional[tuple[int, bool]] = None
    more_after = more_before = None
    after = decode(args.get(APRES), order) if args.get(APRES) else None
    avant = decode(args.get(AVANT), order) if args.get(AVANT) else None
    offset = page_number(args.get("page")) if args.get("page") else 0

    found: list = []
    if avant is not None:
        found = rows(base.where(key > avant).order_by(*asc).limit(size + 1))
        more_before = len(found) > size
        found = list(reversed(found[:size]))
        more_after = True
        if len(found) < size and not more_before:  # back at the start: the full first page
            found, avant = [], None
    if avant is None and args.get(FIN):
        total, exact = count_capped(ids(base), cap)
        if exact:
            offset = max((total - 1) // size, 0)
        else:
            found = list(reversed(rows(base.order_by(*asc).limit(size))))
            more_after, more_before = False, True
    if not found and avant is None:
        if after is not None:
            found = rows(base.where(key < after).order_by(*desc).limit(size + 1))
            more_before = True
        else:
            found = at_offset(offset * size)
            if not found and offset and not clamp:  # past the end: an empty page
                return _past_the_end(ids(base), offset, size, offset * size)
            if not found and offset:  # past the end: the last page
                total, _exact = count_capped(ids(base), (offset + lookahead) * size)
                offset = max((total - 1) // size, 0)
                found = at_offset(offset * size)
            number, before = offset, (offset * size, True)
            more_before = offset > 0
        more_after = len(found) > size
        found = found[:size]
    if not found and after is not None and not clamp:  # nothing left after the cursor
        return _past_the_end(ids(base.where(key > after)), None, size, cap)
    if not found and after is not None:  # nothing left after the cursor: the last page
        return keyset(query, order, {FIN: "1"}, size, options, lookahead)
    if not found:
        return Page([], 0, size, 0, keyset=True, more_after=False, more_before=False)

    head = cursor(found[0])
    if before is None:
        before = count_capped(ids(base.where(key > head).order_by(*asc)), cap)
    here = count_capped(ids(base.where(key <= head).order_by(*desc)), cap)
    total = before[0] + here[0] if before[1] and here[1] else None
    first = before[0] if before[1] else None
    if number is None and first is not None and first % size == 0:
        number = first // size
    return Page(found, number, size, total,
                at_least=before[0] + here[0] if total is None else total,
                first=first, keyset=True, previous_cursor=encode(head),
                next_cursor=encode(cursor(found[-1])), more_after=more_after,
                more_before=more_before if more_before is not None else before[0] > 0)
