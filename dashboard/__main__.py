"""``python -m dashboard [--host H] [--port 8062]``: the dashboard alone, on the configured database.

Useful to look at a production database from a workstation without running the ingest API; it reads
the same ``PRICELENS_*`` settings as ``pricelens serve`` and applies no migrations.
"""

from __future__ import annotations

import argparse

import uvicorn

from collector.settings import get_settings
from dashboard.app import create_dashboard_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8062)
    args = parser.parse_args()
    settings = get_settings()
    settings.check_production_ready()
    uvicorn.run(create_dashboard_app(settings), host=args.host, port=args.port, proxy_headers=True)


if __name__ == "__main__":
    main()
