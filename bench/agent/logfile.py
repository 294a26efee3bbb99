"""A realistic service log: mostly INFO, 1 % ERROR records, half of them with a chained traceback."""

from __future__ import annotations

import random
import time
from pathlib import Path

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/load_ftp/worker.py", line 120, in load\n'
    "    book = open_book(path)\n"
    '  File "/srv/load_ftp/books.py", line 44, in open_book\n'
    "    return zipfile.ZipFile(path)\n"
    '  File "/usr/lib/python3.11/zipfile.py", line 1302, in __init__\n'
    "    self._RealGetContents()\n"
    "zipfile.BadZipFile: File is not a zip file\n"
)


def write_log(path: Path, lines: int, seed: int = 1) -> int:
    """Write about `lines` lines; return the number of ERROR records."""
    rng = random.Random(seed)
    t0 = 1_700_000_000.0
    errors = 0
    n = 0
    with path.open("w") as f:
        while n < lines:
            ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t0 + n / 100)) + f",{n % 1000:03d}"
            if n % 100 == 50:
                errors += 1
                f.write(
                    f"{ts} - load_ftp.worker - ERROR - failed to load price list supplier=acme{errors % 37}"
                    f" file=price_{errors}.xlsx record {errors}\n"
                )
                n += 1
                if errors % 2 == 0:
                    f.write(TRACEBACK)
                    n += 8
            else:
                f.write(
                    f"{ts} - load_ftp.worker - INFO - processed row batch {n} for supplier acme{n % 37}"
                    f" in {rng.random():.4f}s with status ok and nothing notable here\n"
                )
                n += 1
    return errors
