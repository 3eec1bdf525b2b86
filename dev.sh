#!/usr/bin/env bash
# One entry point for a fresh clone on a fresh machine:
#   ./dev.sh demo   — set up, build the demo warehouse and write the diagnosis briefing
#   ./dev.sh test   — set up (incl. Chromium and CJK fonts for browser tests), run the whole suite
#   ./dev.sh setup  — only create .venv from the lock file
set -euo pipefail
cd "$(dirname "$0")"

setup_python() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  if [ ! -f .venv/.locked ] || [ requirements.lock -nt .venv/.locked ] || [ pyproject.toml -nt .venv/.locked ]; then
    .venv/bin/python -m pip install -q --upgrade pip uv
    # bytecode compiled now: start-up stays fast even where PYTHONDONTWRITEBYTECODE is set
    .venv/bin/uv pip install -q --compile-bytecode --python .venv/bin/python -r requirements.lock
    .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
    touch .venv/.locked
  fi
}

setup_system() {
  # Browser tests need Debian's Chromium and a CJK font; installed once, as root.
  local need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
  command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
  # the Spark backend's tests run a local Spark, which needs a Java runtime
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  # the app-database tests run on PostgreSQL as well as SQLite
  if [ -z "${CHAINATLAS_TEST_DATABASE_URL:-}" ]; then
    command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
      echo "missing system packages: ${need[*]} (run as root or: sudo apt-get install ${need[*]})" >&2
      exit 1
    fi
  fi
}

start_postgres() {
  # A PostgreSQL on loopback for the tests marked `postgres`: Debian's cluster, a role that
  # may create the per-run test databases. Point CHAINATLAS_TEST_DATABASE_URL at your own
  # server instead when not root.
  if [ -n "${CHAINATLAS_TEST_DATABASE_URL:-}" ]; then return; fi
  if [ "$(id -u)" != 0 ]; then
    echo "set CHAINATLAS_TEST_DATABASE_URL=postgresql+psycopg://user:pass@host/db (a role with CREATEDB) to run the PostgreSQL tests" >&2
    exit 1
  fi
  local version
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main" || pg_createcluster "$version" main >/dev/null
  pg_ctlcluster "$version" main start 2>/dev/null || pg_ctlcluster "$version" main status >/dev/null
  local have
  have=$(su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='chainatlas_test'\"")
  if [ "$have" != 1 ]; then
    su postgres -c "psql -qc \"CREATE ROLE chainatlas_test LOGIN CREATEDB PASSWORD 'chainatlas_test'\""
  fi
  # dropping a test database ends the autovacuum worker that may be on it
  su postgres -c "psql -qc \"GRANT pg_signal_backend TO chainatlas_test\"" >/dev/null
  export CHAINATLAS_TEST_DATABASE_URL="postgresql+psycopg://chainatlas_test:chainatlas_test@127.0.0.1:5432/postgres"
}

case "${1:-}" in
  setup) setup_python ;;
  demo)
    setup_python
    shift
    exec .venv/bin/chainatlas demo "$@" ;;
  test)
    setup_system
    start_postgres
    setup_python
    shift
    # both cores, one test file per worker at a time (a file's fixtures stay in one
    # process); CHAINATLAS_TEST_WORKERS=0 runs in this process
    exec .venv/bin/python -m pytest -n "${CHAINATLAS_TEST_WORKERS:-2}" --dist loadfile "$@" ;;
  lint)
    setup_python
    .venv/bin/ruff check src tests benchmarks
    .venv/bin/mypy ;;
  *)
    echo "usage: ./dev.sh demo|test|setup|lint" >&2
    exit 2 ;;
esac
