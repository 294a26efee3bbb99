#!/usr/bin/env bash
# The whole suite on a fresh Debian machine: system packages the tests drive (ClickHouse 18.16,
# chromium, syslog-ng, docker-compose), PostgreSQL up, the venv, then lint, types and pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not browser" tests/collector`).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
need_apt=()
command -v clickhouse-server >/dev/null || need_apt+=(clickhouse-server)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v syslog-ng >/dev/null || need_apt+=(syslog-ng-core syslog-ng-mod-http)
command -v docker-compose >/dev/null || need_apt+=(docker-compose)
command -v logrotate >/dev/null || need_apt+=(logrotate)
command -v pg_ctlcluster >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# PostgreSQL: the machine's server on 127.0.0.1:5432 (trust auth); start it when it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

bash scripts/setup.sh

# ClickHouse 18.16 is started privately by the test fixtures (own data directory and ports).
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 "$@"
