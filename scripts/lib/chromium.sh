# Sourced by scripts/test: the browser tests drive Debian's Chromium (Playwright's own browser
# download needs the internet). Installs the `chromium` package with apt-get when missing.

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  local as=()
  [ "$(id -u)" -eq 0 ] || as=(sudo)
  echo "scripts/test: installing Chromium for the browser tests (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  "${as[@]}" apt-get install -y -q chromium >/dev/null \
    || { "${as[@]}" apt-get update -q >/dev/null && "${as[@]}" apt-get install -y -q chromium >/dev/null; } \
    || { echo "scripts/test: could not install Chromium (apt-get install chromium)" >&2; exit 1; }
}
