"""The demo's cast: supplier codes, their products and the price lists they send.

Codes carry no underscore, so both the agent's message regex (``supplier=CODE``) and its path regex
(``CODE_<date>.xlsx`` in an error directory) recognise them. Everything is drawn from a seeded
``random.Random``, so a seed always tells the same story.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

SUPPLIERS: tuple[str, ...] = ("ACME", "NORDTEX", "BALTICA", "HANSA", "ORBIS", "VEGA", "KRONA", "ELBE")

# Names with non-ASCII letters, so a price list written in a legacy code page cannot pass as UTF-8.
PRODUCTS: tuple[str, ...] = (
    "Schraube M8 verzinkt",
    "Dübel 10 mm",
    "Kugellager 6204-2RS",
    "Flachstahl 40\u00d75",
    "Größe-L Arbeitshandschuh",
    "Schweißdraht 1,0 mm",
    "Kabelbinder 300 mm",
    "Rohrschelle ½ Zoll",
    "Sechskantmutter M10",
    "Bohrer HSS Ø6",
)

CURRENCIES: tuple[str, ...] = ("EUR", "EUR", "EUR", "PLN", "CZK")


@dataclass(frozen=True)
class Offer:
    sku: str
    name: str
    price: str  # as written in the supplier's file: parsing it is the consumer's job (and risk)
    currency: str
    quantity: int


def sku(supplier: str, index: int) -> str:
    return f"{supplier[:3]}-{index:05d}"


def offers(rng: random.Random, supplier: str, count: int) -> list[Offer]:
    """A clean price list: every price a plain decimal with a point."""
    result = []
    for _ in range(count):
        cents = rng.randrange(50, 250_000)
        result.append(
            Offer(
                sku=sku(supplier, rng.randrange(1, 5000)),
                name=rng.choice(PRODUCTS),
                price=str(Decimal(cents) / 100),
                currency=rng.choice(CURRENCIES),
                quantity=rng.randrange(0, 500),
            )
        )
    return result


# Prices as suppliers really mistype them: decimal commas, thousands separators, currency signs, blanks.
BAD_PRICES: tuple[str, ...] = ("12,50", "1.234,56", "€ 19.90", "n/a", "", "7.5O", "--")


def with_bad_price(rng: random.Random, rows: list[Offer]) -> tuple[list[Offer], int]:
    """The same list with one price replaced by an unparsable one; returns the list and the bad row."""
    index = rng.randrange(len(rows))
    bad = rows[index]
    rows = list(rows)
    rows[index] = Offer(bad.sku, bad.name, rng.choice(BAD_PRICES), bad.currency, bad.quantity)
    return rows, index
