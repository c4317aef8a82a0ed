#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dev tools, makes sure PostgreSQL is up,
# then runs ruff, mypy and pytest (unit + integration on SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is down; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if command -v redis-server >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is down; starting it (the caps and limits tests use it for real)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

echo "== ruff"; .venv/bin/ruff check src tests scripts bench
echo "== mypy"; .venv/bin/mypy
echo "== pytest"
exec .venv/bin/python -m pytest -q "$@"
