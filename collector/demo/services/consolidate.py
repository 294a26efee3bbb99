"""Demo ``consolidate``: merges loaded price lists into the consolidated ``prices`` table.

Failures: a price that is not a decimal (``decimal.InvalidOperation`` from :class:`decimal.Decimal`), the
ClickHouse server refusing connections (``ConnectionRefusedError``, closed local port) or accepting and
never answering (``TimeoutError``), and rows dropped for missing fields (a WARNING with the counts).
Time-based rotation (``TimedRotatingFileHandler``), unlike the two loaders.
"""

from __future__ import annotations

import decimal
import logging
import random
import sys
from collections.abc import Sequence

from collector.demo import suppliers
from collector.demo.services import pricelists
from collector.demo.services.base import DemoService, Options, Scenario, main
from collector.demo.services.network import LOCALHOST, SilentServer, clickhouse_hello, closed_port
from collector.demo.suppliers import Offer

SUPPLIERS = suppliers.SUPPLIERS


class Consolidate(DemoService):
    name = "consolidate"
    description = "Demo consolidation: merges price lists into ClickHouse and fails the ways merges fail."
    timed_rotation = True

    def __init__(self, options: Options, logger: logging.Logger, rng: random.Random) -> None:
        super().__init__(options, logger, rng)
        self.silent = SilentServer()

    def suppliers(self) -> Sequence[str]:
        return SUPPLIERS

    def mix(self) -> list[tuple[Scenario, int]]:
        return [
            (self.merge_ok, 5),
            (self.bad_decimal, 1),
            (self.rows_dropped, 1),
            (self.clickhouse_refused, 1),
            (self.clickhouse_timeout, 1),
        ]

    def _rows(self, offers: list[Offer]) -> list[list[str]]:
        return [
            list(pricelists.HEADER),
            *([o.sku, o.name, o.price, o.currency, str(o.quantity)] for o in offers),
        ]

    def merge_ok(self, supplier: str) -> None:
        rows = self._rows(suppliers.offers(self.rng, supplier, self.rng.randrange(50, 400)))
        total = sum(pricelists.parse_prices(rows))
        self.log.getChild("merge").info(
            "merged %d offers supplier=%s into prices (list value %s)", len(rows) - 1, supplier, total
        )

    def bad_decimal(self, supplier: str) -> None:
        offers, index = suppliers.with_bad_price(self.rng, suppliers.offers(self.rng, supplier, 60))
        name = self.file_name(supplier, "csv")
        try:
            pricelists.parse_prices(self._rows(offers))
        except decimal.InvalidOperation:
            self.log.getChild("merge").exception(
                "price does not parse supplier=%s file=%s row=%d value=%r",
                supplier, name, index + 2, offers[index].price,
            )  # fmt: skip

    def rows_dropped(self, supplier: str) -> None:
        total = self.rng.randrange(100, 900)
        dropped = self.rng.randrange(5, max(6, total // 8))
        self.log.getChild("merge").warning(
            "dropped %d of %d rows without quantity supplier=%s", dropped, total, supplier
        )

    def clickhouse_refused(self, supplier: str) -> None:
        port = closed_port()
        try:
            clickhouse_hello(LOCALHOST, port, self.options.net_timeout)
        except ConnectionRefusedError:
            self.log.getChild("clickhouse").exception(
                "cannot reach ClickHouse at %s:%d, merge postponed supplier=%s", LOCALHOST, port, supplier
            )

    def clickhouse_timeout(self, supplier: str) -> None:
        try:
            clickhouse_hello(LOCALHOST, self.silent.port, self.options.net_timeout)
        except TimeoutError:
            self.log.getChild("clickhouse").exception(
                "ClickHouse did not answer within %.1f s, merge postponed supplier=%s",
                self.options.net_timeout, supplier,
            )  # fmt: skip

    def close(self) -> None:
        self.silent.close()


if __name__ == "__main__":
    sys.exit(main(Consolidate))
