"""Demo ``load_ftp``: fetches suppliers' xlsx price lists from their FTP servers.

Failures, all raised by the standard library: a supplier's FTP server refuses the connection
(``ConnectionRefusedError`` from a closed local port), another accepts and never greets
(``TimeoutError`` inside :mod:`ftplib`), a download arrives truncated (``zipfile.BadZipFile``; the file is
moved to the error directory with a ``.err`` reason), and one supplier stops sending altogether after the
first round, which the service reports every round as ``no price list from supplier=… since …``.
Size-based rotation (``RotatingFileHandler``).
"""

from __future__ import annotations

import logging
import random
import sys
import zipfile
from collections.abc import Sequence
from datetime import datetime

from collector.demo import suppliers
from collector.demo.services import pricelists
from collector.demo.services.base import DemoService, Options, Scenario, main
from collector.demo.services.network import LOCALHOST, SilentServer, closed_port, ftp_listing
from collector.demo.services.rejects import reject

SUPPLIERS = suppliers.SUPPLIERS[:6]


class LoadFtp(DemoService):
    name = "load_ftp"
    description = "Demo FTP loader: downloads xlsx price lists and fails the ways FTP loaders fail."

    def __init__(self, options: Options, logger: logging.Logger, rng: random.Random) -> None:
        super().__init__(options, logger, rng)
        self.silent = SilentServer()
        self.quitter = rng.choice(SUPPLIERS)  # the supplier whose files stop arriving after round 1
        started = datetime.now()
        self.last_arrival: dict[str, tuple[int, datetime]] = {s: (0, started) for s in SUPPLIERS}

    def suppliers(self) -> Sequence[str]:
        if self.round <= 1:
            return SUPPLIERS
        return [s for s in SUPPLIERS if s != self.quitter]

    def mix(self) -> list[tuple[Scenario, int]]:
        return [(self.fetch_ok, 5), (self.refused, 1), (self.timeout, 1), (self.truncated_download, 1)]

    def start_round(self) -> None:
        for supplier in SUPPLIERS:
            seen = self.last_arrival[supplier]
            if self.round - seen[0] > self.options.stale_after:
                self.log.getChild("schedule").error(
                    "no price list from supplier=%s since %s (%d rounds without a file)",
                    supplier, f"{seen[1]:%Y-%m-%d %H:%M:%S}", self.round - seen[0] - 1,
                )  # fmt: skip

    def _download(self, supplier: str, data: bytes) -> tuple[str, int]:
        name = self.file_name(supplier, "xlsx")
        path = self.options.work_dir / name
        path.write_bytes(data)
        try:
            rows = pricelists.read_xlsx(path)
        except zipfile.BadZipFile as exc:
            self.log.getChild("parse").exception("cannot open price list supplier=%s file=%s", supplier, name)
            reject(
                path,
                self.options.error_dir,
                f"{type(exc).__module__}.{type(exc).__name__}: {exc}\n"
                f"supplier={supplier} file={name} size={len(data)} bytes: the download is incomplete",
            )
            return name, -1
        path.unlink()
        self.last_arrival[supplier] = (self.round, datetime.now())
        return name, len(rows) - 1

    def fetch_ok(self, supplier: str) -> None:
        # Like the real poller: the supplier waiting longest is fetched next (the drawn one is ignored).
        supplier = min(self.suppliers(), key=lambda s: self.last_arrival[s][0])
        offers = suppliers.offers(self.rng, supplier, self.rng.randrange(20, 120))
        name, rows = self._download(supplier, pricelists.xlsx_bytes(offers))
        self.log.getChild("fetch").info("loaded price list supplier=%s file=%s rows=%d", supplier, name, rows)

    def truncated_download(self, supplier: str) -> None:
        offers = suppliers.offers(self.rng, supplier, self.rng.randrange(20, 120))
        self._download(supplier, pricelists.truncated(pricelists.xlsx_bytes(offers)))

    def refused(self, supplier: str) -> None:
        port = closed_port()
        try:
            ftp_listing(LOCALHOST, port, self.options.net_timeout)
        except ConnectionRefusedError:
            self.log.getChild("fetch").exception(
                "FTP connection failed supplier=%s host=%s:%d", supplier, LOCALHOST, port
            )

    def timeout(self, supplier: str) -> None:
        try:
            ftp_listing(LOCALHOST, self.silent.port, self.options.net_timeout)
        except TimeoutError:
            self.log.getChild("fetch").exception(
                "FTP server did not answer within %.1f s supplier=%s host=%s:%d",
                self.options.net_timeout, supplier, LOCALHOST, self.silent.port,
            )  # fmt: skip

    def close(self) -> None:
        self.silent.close()


if __name__ == "__main__":
    sys.exit(main(LoadFtp))
