"""A private ClickHouse server (Debian's 18.16 ``clickhouse-server``) for tests and the benchmark.

Own temporary data directory, free ports, its own log files; started with the system config file but
every path and port overridden on the command line (peers.md), so it never touches a system instance.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clickhouse_driver import Client
from clickhouse_driver import errors as ch_errors

from tests.live import free_port

SYSTEM_CONFIG = "/etc/clickhouse-server/config.xml"


def available() -> bool:
    return shutil.which("clickhouse-server") is not None and Path(SYSTEM_CONFIG).exists()


@dataclass
class ClickHouseServer:
    process: subprocess.Popen[bytes]
    data_dir: Path
    tcp_port: int

    def url(self, database: str = "default") -> str:
        return f"clickhouse://default:@127.0.0.1:{self.tcp_port}/{database}"

    def client(self, database: str = "default") -> Client:
        return Client("127.0.0.1", port=self.tcp_port, database=database)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(startup_timeout: float = 30.0) -> ClickHouseServer:
    """Start a private server and wait until it answers a query."""
    data_dir = Path(tempfile.mkdtemp(prefix="pl_clickhouse_"))
    (data_dir / "tmp").mkdir()
    tcp_port, http_port, interserver_port = free_port(), free_port(), free_port()
    log = (data_dir / "stdout.log").open("wb")
    process = subprocess.Popen(
        [
            "clickhouse-server",
            f"--config-file={SYSTEM_CONFIG}",
            "--",
            f"--path={data_dir}/",
            f"--tmp_path={data_dir}/tmp/",
            f"--tcp_port={tcp_port}",
            f"--http_port={http_port}",
            f"--interserver_http_port={interserver_port}",
            f"--logger.log={data_dir}/server.log",
            f"--logger.errorlog={data_dir}/err.log",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data_dir,
    )
    server = ClickHouseServer(process, data_dir, tcp_port)
    deadline = time.monotonic() + startup_timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"clickhouse-server exited with {process.returncode}; see {data_dir}/err.log")
        try:
            server.client().execute("SELECT 1")
            return server
        except (ch_errors.NetworkError, ch_errors.SocketTimeoutError, OSError, EOFError):
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"clickhouse-server did not answer within {startup_timeout} s") from None
            time.sleep(0.1)


@contextmanager
def running() -> Iterator[ClickHouseServer]:
    server = start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
