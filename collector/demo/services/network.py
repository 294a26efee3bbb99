"""Local stand-ins for unreachable and unresponsive servers, so network failures are real ones.

``closed_port()`` names a port nobody listens on: connecting gets ``ConnectionRefusedError`` from the
kernel. :class:`SilentServer` accepts connections and never says a word, so a client waiting for a
greeting (an FTP ``220``, a ClickHouse hello) runs into its own timeout with ``TimeoutError``. Both stay on
127.0.0.1: the demo never touches the network beyond the machine.
"""

from __future__ import annotations

import ftplib
import socket
import threading
from types import TracebackType

LOCALHOST = "127.0.0.1"


def closed_port() -> int:
    """A port that was free a moment ago and has nobody listening on it now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
    return port


class SilentServer:
    """Listens on 127.0.0.1, accepts each connection and holds it open without answering."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOCALHOST, 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed by close()
                return
            with conn:
                try:
                    # Wait until the client gives up and hangs up; never send anything.
                    while conn.recv(4096):
                        pass
                except OSError:
                    pass

    def close(self) -> None:
        self._stopped.set()
        self._sock.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def ftp_listing(host: str, port: int, timeout: float, directory: str = "/pricelists") -> list[str]:
    """Log in anonymously and list a directory, as the real ``load_ftp`` does before downloading."""
    ftp = ftplib.FTP(timeout=timeout)  # noqa: S321 - plain FTP is what the suppliers run
    try:
        ftp.connect(host, port)
        ftp.login()
        return ftp.nlst(directory)
    finally:
        ftp.close()


def clickhouse_hello(host: str, port: int, timeout: float) -> bytes:
    """Open a native-protocol connection and wait for the server's first bytes."""
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(b"\x00")  # the client hello starts with packet type 0
        return conn.recv(64)
