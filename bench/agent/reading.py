"""The agent's reading stage alone (read, frame, parse, serialise) over a file: `python -m bench.agent.reading FILE`."""

from __future__ import annotations

import os
import re
import sys
import time

import orjson

from agent.framing import Framer
from agent.identity import event_id
from agent.parsing import DEFAULT_LAYOUT, LEVELS, Parser, ParseSpec, layout_regex, line_format


def main(path: str) -> None:
    level = LEVELS["WARNING"]
    fmt = line_format("python", layout=DEFAULT_LAYOUT, pattern=None, min_level=level)
    parser = Parser(
        ParseSpec(
            "load_ftp",
            "h",
            "python",
            re.compile(layout_regex(DEFAULT_LAYOUT)),
            re.compile(r"supplier=(?P<supplier>\w+)"),
            None,
            None,
            "ERROR",
        )
    )
    framer = Framer(fmt, level, 0, 512 * 1024)
    start = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    count = 0
    pos = 0
    while data := os.pread(fd, 1 << 20, pos):
        pos += len(data)
        for rec in framer.feed(data):
            orjson.dumps(parser.parse(rec, event_id=event_id("h", "s", "i", rec.offset), path=path))
            count += 1
    count += len(framer.flush(final=True))
    print(f"{count} {time.perf_counter() - start:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
