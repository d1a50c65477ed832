# Sourced by the scripts: builds the browser assets the app serves itself (GraphiQL, Swagger
# UI, Redoc), so its pages work without internet access. `npm ci` installs the exact versions
# of web/package-lock.json; the files the pages load, and their licences, are copied into
# app/web/vendor/ (not in git). Rebuilt only when the lock file or this list changes.
# Usage: ensure_web_assets   (fails when npm is missing or the registry cannot be reached)

# package, then the files of it the pages load (copied to app/web/vendor/<package>/); the
# explorer plugin states its licence in package.json and bundles graphiql-explorer.
WEB_ASSET_FILES=(
  "react umd/react.production.min.js LICENSE"
  "react-dom umd/react-dom.production.min.js LICENSE"
  "graphiql graphiql.min.js graphiql.min.css LICENSE"
  "@graphiql/plugin-explorer dist/index.umd.js dist/style.css package.json"
  "graphiql-explorer LICENSE"
  "swagger-ui-dist swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE"
  "redoc bundles/redoc.standalone.js bundles/redoc.standalone.js.LICENSE.txt LICENSE"
)

ensure_web_assets() {
  local vendor=app/web/vendor
  local stamp="$vendor/.built"
  local want
  want="$(cat web/package-lock.json scripts/lib/web.sh | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: install Node.js (with npm) to build the browser assets" >&2
    return 1
  fi
  echo "Building the browser assets (npm ci in web/)..."
  (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
  rm -rf "$vendor"
  local entry package file
  for entry in "${WEB_ASSET_FILES[@]}"; do
    read -r package entry <<<"$entry"
    mkdir -p "$vendor/$package"
    for file in $entry; do
      cp "web/node_modules/$package/$file" "$vendor/$package/" || return 1
    done
  done
  # Redoc's side menu shows Redocly's logo from their CDN: an inline 1-pixel image instead,
  # so that the page asks nothing of another host.
  sed -i 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E#' \
    "$vendor/redoc/redoc.standalone.js"
  echo "$want" >"$stamp"
}
