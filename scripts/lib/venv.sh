# Sourced by the scripts: makes .venv and installs into it exactly what uv.lock pins (every
# dependency, transitive ones included, checked against its hashes), then the project itself,
# editable and without dependencies. Reinstalls only when uv.lock, pyproject.toml or the
# requested extras change. `scripts/lock` updates uv.lock after pyproject.toml changes.
# Usage: ensure_venv [extras]   e.g. ensure_venv "test,dev"

# uv reads and writes the lock; pip installs what it exports. Both come from PyPI.
UV_VERSION=0.13.8
export UV_PYTHON_DOWNLOADS=never

make_venv() {
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "testrun-gateway needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  if [ "$(.venv/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  export UV_PYTHON=.venv/bin/python
}

# The locked requirements (with hashes) of the given extras, in pip's format, on stdout.
locked_requirements() {
  local extras="${1:-}" flags=() extra
  for extra in ${extras//,/ }; do
    flags+=(--extra "$extra")
  done
  if ! .venv/bin/uv export --locked --quiet --format requirements-txt --no-emit-project \
    --no-header "${flags[@]}"; then
    echo "uv.lock does not match pyproject.toml: run scripts/lock (and commit uv.lock)" >&2
    return 1
  fi
}

ensure_venv() {
  local extras="${1:-}"
  make_venv
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp=".venv/.installed"
  local want
  want="$(cat pyproject.toml uv.lock | sha256sum | cut -d' ' -f1) $spec"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    locked_requirements "$extras" >.venv/requirements.txt || exit 1
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
      -r .venv/requirements.txt
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    echo "$want" >>"$stamp"
  fi
}
