"""The build backend: setuptools', refusing to build a wheel or sdist without the browser
assets (app/web/vendor, built from npm by scripts/web-assets, not in git), so that a wheel
always serves GraphiQL, Swagger UI and Redoc without Node.js or internet access. Editable
installs (scripts/run, scripts/test) do not need them."""

from pathlib import Path
from typing import Any

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F403  (every hook of the PEP 517 interface)

# One file of each package the pages load (app/api/web.py names them all).
REQUIRED = (
    "graphiql/graphiql.min.js",
    "swagger-ui-dist/swagger-ui-bundle.js",
    "redoc/redoc.standalone.js",
)


def _require_assets() -> None:
    vendor = Path("app/web/vendor")
    missing = [name for name in REQUIRED if not (vendor / name).is_file()]
    if missing:
        raise SystemExit(
            f"error: the browser assets are missing from {vendor} ({', '.join(missing)}): "
            "run scripts/web-assets (needs Node.js and npm) before building the package"
        )


def build_wheel(wheel_directory: str, config_settings: Any = None, metadata_directory: Any = None):
    _require_assets()
    return build_meta.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory: str, config_settings: Any = None):
    _require_assets()
    return build_meta.build_sdist(sdist_directory, config_settings)
