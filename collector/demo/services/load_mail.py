"""Demo ``load_mail``: takes suppliers' price lists out of e-mail attachments.

Each cycle builds a real MIME message (:mod:`email`), serialises it as a mail server would deliver it and
parses it back, then reads the attachment. Failures: a CSV saved in Windows-1252 but read as UTF-8
(``UnicodeDecodeError``), an xlsx attachment cut short (``zipfile.BadZipFile``) — both moved to the error
directory with a ``.err`` reason — and a mail that arrives without any price list (a WARNING).
Size-based rotation (``RotatingFileHandler``).
"""

from __future__ import annotations

import dataclasses
import email
import sys
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import default as default_policy

from collector.demo import suppliers
from collector.demo.services import pricelists
from collector.demo.services.base import DemoService, Scenario, main
from collector.demo.services.rejects import reject
from collector.demo.suppliers import Offer

SUPPLIERS = suppliers.SUPPLIERS[2:]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def delivered(supplier: str, attachment: tuple[str, bytes, str] | None) -> EmailMessage:
    """A supplier's mail as it comes off the wire (built, serialised, parsed again)."""
    msg = EmailMessage()
    msg["From"] = f"prices@{supplier.lower()}.example"
    msg["To"] = "pricelists@pricelens.example"
    msg["Subject"] = f"Price list {supplier}"
    msg.set_content("Please find our current price list attached.")
    if attachment is not None:
        name, data, mime = attachment
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    parsed = email.message_from_bytes(msg.as_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    return parsed


class LoadMail(DemoService):
    name = "load_mail"
    description = "Demo mail loader: reads CSV and xlsx price lists from mail attachments."

    def suppliers(self) -> Sequence[str]:
        return SUPPLIERS

    def mix(self) -> list[tuple[Scenario, int]]:
        return [
            (self.csv_ok, 4),
            (self.csv_legacy_encoding, 1),
            (self.xlsx_truncated, 1),
            (self.no_attachment, 1),
        ]

    def _offers(self, supplier: str) -> list[Offer]:
        return suppliers.offers(self.rng, supplier, self.rng.randrange(10, 80))

    def _receive(self, supplier: str, msg: EmailMessage) -> None:
        log = self.log.getChild("inbox")
        parts = list(msg.iter_attachments())
        if not parts:
            log.warning("mail from supplier=%s (%s) has no price list attached", supplier, msg["Subject"])
            return
        part = parts[0]
        name = part.get_filename() or self.file_name(supplier, "bin")
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        path = self.options.work_dir / name
        path.write_bytes(data)
        try:
            rows = pricelists.read_xlsx(path) if name.endswith(".xlsx") else pricelists.read_csv(data)
        except (UnicodeDecodeError, zipfile.BadZipFile) as exc:
            log.exception("cannot read attachment supplier=%s file=%s", supplier, name)
            reason = f"{type(exc).__module__}.{type(exc).__name__}: {exc}".replace("builtins.", "")
            reject(
                path, self.options.error_dir, f"{reason}\nsupplier={supplier} file={name} from {msg['From']}"
            )
            return
        path.unlink()
        log.info("loaded price list supplier=%s file=%s rows=%d", supplier, name, len(rows) - 1)

    def csv_ok(self, supplier: str) -> None:
        data = pricelists.csv_bytes(self._offers(supplier))
        self._receive(supplier, delivered(supplier, (self.file_name(supplier, "csv"), data, "text/csv")))

    def csv_legacy_encoding(self, supplier: str) -> None:
        offers = self._offers(supplier)
        offers[0] = dataclasses.replace(offers[0], name="Dübel 10 mm")  # at least one non-ASCII letter
        data = pricelists.csv_bytes(offers, encoding="cp1252")
        self._receive(supplier, delivered(supplier, (self.file_name(supplier, "csv"), data, "text/csv")))

    def xlsx_truncated(self, supplier: str) -> None:
        data = pricelists.truncated(pricelists.xlsx_bytes(self._offers(supplier)))
        self._receive(supplier, delivered(supplier, (self.file_name(supplier, "xlsx"), data, XLSX)))

    def no_attachment(self, supplier: str) -> None:
        self._receive(supplier, delivered(supplier, None))


if __name__ == "__main__":
    sys.exit(main(LoadMail))
