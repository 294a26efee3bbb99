"""Price-list files as suppliers send them, and the readers that choke on the broken ones.

The xlsx writer builds a minimal but valid workbook with :mod:`zipfile`; the reader opens it with
:mod:`zipfile` and :mod:`xml.etree`, so a truncated download fails inside the standard library with
``zipfile.BadZipFile`` exactly as it would in production code. CSV files are read as UTF-8, so a file
saved in a Windows code page fails with ``UnicodeDecodeError``; prices go through :class:`decimal.Decimal`,
so a decimal comma fails with ``decimal.InvalidOperation``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from collector.demo.suppliers import Offer

HEADER = ("sku", "name", "price", "currency", "quantity")
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_SHEET = "xl/worksheets/sheet1.xml"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheets><sheet name="prices" sheetId="1"/></sheets></workbook>'
)


def _rows(offers: Sequence[Offer]) -> list[tuple[str, ...]]:
    return [HEADER, *((o.sku, o.name, o.price, o.currency, str(o.quantity)) for o in offers)]


def xlsx_bytes(offers: Sequence[Offer]) -> bytes:
    cells = []
    for r, row in enumerate(_rows(offers), start=1):
        values = "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' for v in row)
        cells.append(f'<row r="{r}">{values}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<worksheet xmlns="{_NS[1:-1]}"><sheetData>{"".join(cells)}</sheetData></worksheet>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr(_SHEET, sheet)
    return buffer.getvalue()


def truncated(data: bytes, keep: float = 0.4) -> bytes:
    """What an interrupted transfer leaves: the first part of the file, no central directory."""
    return data[: max(1, int(len(data) * keep))]


def read_xlsx(path: Path) -> list[list[str]]:
    """Rows of the first sheet; raises ``zipfile.BadZipFile`` for anything that is not a whole zip."""
    with zipfile.ZipFile(path) as book:
        root = ElementTree.fromstring(book.read(_SHEET))  # noqa: S314 - our own demo file
    return [
        ["".join(t.text or "" for t in cell.iter(f"{_NS}t")) for cell in row.iter(f"{_NS}c")]
        for row in root.iter(f"{_NS}row")
    ]


def csv_bytes(offers: Sequence[Offer], encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\n").writerows(_rows(offers))
    return text.getvalue().encode(encoding)


def read_csv(data: bytes) -> list[list[str]]:
    """Rows of a UTF-8 CSV; raises ``UnicodeDecodeError`` for any other encoding with non-ASCII text."""
    return list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=";"))


def parse_prices(rows: list[list[str]]) -> list[Decimal]:
    """The price column as decimals; raises ``decimal.InvalidOperation`` on the first bad one."""
    column = rows[0].index("price")
    return [Decimal(row[column]) for row in rows[1:]]
