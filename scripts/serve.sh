#!/usr/bin/env bash
# Quickstart: install (first run only) and start the gateway on http://127.0.0.1:8080/v1
# with SQLite and local disk under ./data. Extra arguments go to `aigateway serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/aigateway serve "$@"
