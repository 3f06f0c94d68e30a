"""Pages of a list: how every custom list counts, slices and numbers its rows, so that the
pages and the API page the same way (and the scale work can change it in one place)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import Select, func, select

from app.extensions import db


@dataclass
class Page:
    """One page of a list; `number` counts from 0 (the `page` argument of the URL)."""

    rows: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max((self.total + self.size - 1) // self.size, 1)

    @property
    def last(self) -> int:
        return self.pages - 1

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return self.number < self.last

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)


def page_number(value: Any) -> int:
    """The page asked for (0 when missing or not a number)."""
    try:
        return max(int(value), 0)
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
