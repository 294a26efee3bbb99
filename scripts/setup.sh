#!/usr/bin/env bash
# Create .venv and install Pricelens with the server, agent and development extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[server,agent,dev]'
if [ "${PRICELENS_WITH_CHDB:-1}" = "1" ]; then
    # chdb proves the job SQL on a current ClickHouse; its tests skip if it cannot be installed.
    .venv/bin/python -m pip install -q 'chdb>=2' || echo "chdb could not be installed; its tests will skip"
fi
