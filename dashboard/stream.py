"""The investigations stream's view state, kept in the URL so a view can be shared by pasting its link.

:class:`StreamQuery` parses the query string leniently (an unknown value falls back to the default
rather than failing), turns it into the collector's :class:`InvestigationFilter`, and builds the links
for sorting and paging that keep every other filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from collector.models import InvestigationStatus
from collector.queries import InvestigationFilter, SortKey

STATUS_VIEWS: dict[str, list[str]] = {
    "unresolved": [InvestigationStatus.OPEN, InvestigationStatus.ACKNOWLEDGED],
    "open": [InvestigationStatus.OPEN],
    "acknowledged": [InvestigationStatus.ACKNOWLEDGED],
    "resolved": [InvestigationStatus.RESOLVED],
    "ignored": [InvestigationStatus.IGNORED],
    "all": [],
}
RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "14d": timedelta(days=14),
    "30d": timedelta(days=30),
    "all": None,
}
SORTS: dict[str, SortKey] = {"last_seen": "last_seen", "first_seen": "first_seen", "events": "event_count"}
BULK_ACTIONS = {
    "acknowledge": InvestigationStatus.ACKNOWLEDGED,
    "resolve": InvestigationStatus.RESOLVED,
    "ignore": InvestigationStatus.IGNORED,
    "reopen": InvestigationStatus.OPEN,
}
PER_PAGE = 50


def _pick(value: str | None, allowed: Mapping[str, Any], default: str) -> str:
    return value if value is not None and value in allowed else default


@dataclass(frozen=True)
class StreamQuery:
    status: str = "unresolved"
    service: str = ""
    supplier: str = ""
    kind: str = ""
    range: str = "all"
    q: str = ""
    sort: str = "last_seen"
    order: str = "desc"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> StreamQuery:
        try:
            page = max(1, min(int(params.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return cls(
            status=_pick(params.get("status"), STATUS_VIEWS, "unresolved"),
            service=params.get("service", "").strip()[:64],
            supplier=params.get("supplier", "").strip()[:200],
            kind=params.get("kind", "").strip()[:32],
            range=_pick(params.get("range"), RANGES, "all"),
            q=params.get("q", "").strip()[:200],
            sort=_pick(params.get("sort"), SORTS, "last_seen"),
            order="asc" if params.get("order") == "asc" else "desc",
            page=page,
        )

    def to_filter(self, now: datetime | None = None) -> InvestigationFilter:
        span = RANGES[self.range]
        return InvestigationFilter(
            status=list(STATUS_VIEWS[self.status]),
            service=self.service or None,
            supplier=self.supplier or None,
            kind=self.kind or None,
            since=(now or datetime.now(UTC)) - span if span else None,
            q=self.q or None,
        )

    @property
    def sort_key(self) -> SortKey:
        return SORTS[self.sort]

    @property
    def filtered(self) -> bool:
        """Whether anything narrows the default view (for the empty state's wording)."""
        return self != StreamQuery(page=self.page, sort=self.sort, order=self.order)

    def url(self, **changes: Any) -> str:
        """``/investigations?…`` with ``changes`` applied; defaults are left out to keep links short."""
        state = replace(self, **changes)
        default = asdict(StreamQuery())
        params = {k: v for k, v in asdict(state).items() if v != default[k]}
        return "/investigations" + (f"?{urlencode(params)}" if params else "")

    def sort_url(self, key: str) -> str:
        """Clicking the active column flips the order; another column starts descending."""
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else "desc"
        return self.url(sort=key, order=order, page=1)
