"""Reading a request body within limits: size cap, gzip without inflating a bomb, JSON parsing."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson


class BodyError(Exception):
    """A body that cannot be accepted; carries the HTTP status and a message a person can act on."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def read_limited(chunks: AsyncIterator[bytes], *, gzipped: bool, limit: int) -> bytes:
    """The (decompressed) body, refusing with 413 as soon as it would exceed ``limit`` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    out = bytearray()
    too_large = BodyError(413, f"request body is larger than {limit // (1024 * 1024)} MiB (decompressed)")
    async for chunk in chunks:
        if inflater is None:
            out += chunk
        else:
            try:
                # max_length bounds every step, so a gzip bomb is cut off, not inflated whole.
                out += inflater.decompress(chunk, limit - len(out) + 1)
                while inflater.unconsumed_tail and len(out) <= limit:
                    out += inflater.decompress(inflater.unconsumed_tail, limit - len(out) + 1)
            except zlib.error as exc:
                raise BodyError(422, f"body is not valid gzip: {exc}") from exc
        if len(out) > limit:
            raise too_large
    if inflater is not None and not inflater.eof and out:
        raise BodyError(422, "gzip body is truncated")
    return bytes(out)


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise BodyError(422, 'request body is empty; send a JSON event or {"events": [...]}')
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(422, f"body is not valid JSON (UTF-8): {exc}") from exc
