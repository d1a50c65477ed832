# Sourced by the scripts: makes .venv and installs the project into it from pyproject.toml,
# reinstalling only when pyproject.toml or the requested extras change.
# Usage: ensure_venv [extras]   e.g. ensure_venv "test,dev"

ensure_venv() {
  local extras="${1:-}"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "testrun-gateway needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp=".venv/.installed"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) $spec"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
    echo "$want" >> "$stamp"
  fi
}
