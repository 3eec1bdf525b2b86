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

case "${1:-}" in
  setup) setup_python ;;
  demo)
    setup_python
    shift
    exec .venv/bin/chainatlas demo "$@" ;;
  test)
    setup_system
    setup_python
    shift
    exec .venv/bin/python -m pytest "$@" ;;
  lint)
    setup_python
    .venv/bin/ruff check src tests benchmarks
    .venv/bin/mypy ;;
  *)
    echo "usage: ./dev.sh demo|test|setup|lint" >&2
    exit 2 ;;
esac
