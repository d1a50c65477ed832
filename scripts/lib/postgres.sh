# Sourced by scripts/test: starts a throwaway PostgreSQL server for the test run, exports
# TESTRUNS_TEST_POSTGRES_URL for the suite, and stops the server when the script exits
# (also when tests fail). PostgreSQL refuses to run as root, so as root it runs as the
# `postgres` system user (or `nobody`).

start_test_postgres() {
  local bindir
  if command -v initdb >/dev/null 2>&1; then
    bindir="$(dirname "$(readlink -f "$(command -v initdb)")")"
  else
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  fi
  if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "scripts/test: PostgreSQL server binaries (initdb, pg_ctl) not found" >&2
    exit 1
  fi

  PG_TMP="$(mktemp -d -t testruns-pg.XXXXXX)"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_TMP"
    as=(runuser -u "$user" --)
  fi
  PG_AS=("${as[@]}")
  PG_BIN="$bindir"
  trap stop_test_postgres EXIT

  local port
  port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as[@]}" "$bindir/initdb" -D "$PG_TMP/data" -U testruns --auth=trust -E UTF8 \
    --locale=C.UTF-8 --no-sync >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; exit 1; }
  # Durability settings are off: this server lives for one test run.
  "${as[@]}" "$bindir/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 start \
    -o "-k $PG_TMP -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    >/dev/null || { cat "$PG_TMP/server.log" >&2; exit 1; }
  "${as[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U testruns testruns_test
  export TESTRUNS_TEST_POSTGRES_URL="postgresql+asyncpg://testruns@127.0.0.1:$port/testruns_test"
  echo "scripts/test: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on port $port"
}

stop_test_postgres() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_TMP:-}" ] && rm -rf "$PG_TMP"
}
