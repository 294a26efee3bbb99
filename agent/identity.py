"""Content-following file identity and deterministic event ids.

A file is known by a hash of its first bytes (`FINGERPRINT_BYTES`, or all of a smaller file that has
been quiet for a while), not by its path or inode: the copy `copytruncate` leaves behind, a renamed
file or a file on a reused inode is recognised for what it holds, and a record re-read from any of
them gets the same event id, which the collector drops as a duplicate. The number of bytes hashed is
saved with the identity, so the same prefix is compared when the file is met again, however it grew.
"""

from __future__ import annotations

import hashlib
import os

FINGERPRINT_BYTES = 1024
TAIL_BYTES = 64


def fingerprint(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()[:32]


def identifiable(head: bytes, quiet: bool) -> bool:
    """Enough bytes to tell this content from others: a full prefix, or a quiet file with a line."""
    return len(head) >= FINGERPRINT_BYTES or (quiet and b"\n" in head)


def successor(identity: str, offset: int) -> str:
    """Identity of content that replaced a known file in place (same first line, different bytes).

    Derived from what the agent knew, so seeing the same replacement again gives the same identity.
    """
    return hashlib.sha256(f"{identity}@{offset}".encode()).hexdigest()[:32]


def read_tail(fd: int, offset: int) -> bytes:
    """The bytes just before `offset`: proof, on reopening, that the content up to it is unchanged."""
    start = max(0, offset - TAIL_BYTES)
    return os.pread(fd, offset - start, start)


def event_id(host: str, service: str, identity: str, offset: int) -> str:
    """Id of the record whose first line starts at `offset` in the content `identity`."""
    digest = hashlib.sha256(f"{host}\0{service}\0{identity}\0{offset}".encode()).hexdigest()
    return f"f-{digest[:40]}"


def file_event_id(host: str, path: str, size: int, mtime_ns: int, sha256: str) -> str:
    digest = hashlib.sha256(f"{host}\0{path}\0{size}\0{mtime_ns}\0{sha256}".encode()).hexdigest()
    return f"d-{digest[:40]}"
