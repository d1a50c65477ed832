"""The package: `python -m build` makes a wheel that carries the browser assets, so that,
installed into a fresh virtualenv with the locked dependencies, `testruns serve` serves every
page from its own files, without Node.js or the source tree. Slow: it builds and installs."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import serving

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def local_references(page: str) -> list[str]:
    """Every file a page loads: each must be the app's own (a path on the same host)."""
    found = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
    urls = [url for url in found if not url.startswith("#")]  # links within the page
    assert urls
    for url in urls:
        assert re.match(r"/[^/]", url), f"{url} is not a local file"
    return urls


def test_the_wheel_serves_every_page_offline_from_a_fresh_virtualenv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--outdir", dist)
    (wheel,) = dist.glob("testrun_gateway-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    locked = tmp_path / "requirements.txt"
    locked.write_text(
        run(BIN / "uv", "export", "--frozen", "--no-emit-project", "--no-header", "--quiet")
    )
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    run(*pip, "--require-hashes", "-r", locked)
    run(*pip, "--no-deps", wheel)

    # The installed package, not this source tree, is what runs.
    home = tmp_path / "home"
    home.mkdir()
    where = run(venv / "bin" / "python", "-c", "import app; print(app.__file__)", cwd=home)
    assert where.startswith(str(venv))
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{home / 'testruns.db'}",
    }
    run(venv / "bin" / "testruns", "db", "upgrade", cwd=home, env=env)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    with serving({**clean, **env}, home, testruns=str(venv / "bin" / "testruns")) as (_, url):
        pages = {
            "/graphql": "graphiql/graphiql.min.js",
            "/docs": "swagger-ui-dist/swagger-ui-bundle.js",
            "/redoc": "redoc/redoc.standalone.js",
            "/": None,
        }
        for path, vendor_file in pages.items():
            page = httpx.get(f"{url}{path}", headers={"Accept": "text/html"})
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            references = local_references(page.text)
            if vendor_file is not None:
                assert f"/vendor/{vendor_file}" in references
            for reference in references:
                assert httpx.get(f"{url}{reference}").status_code == 200, reference


def test_building_without_the_browser_assets_says_how_to_build_them(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "vendor", "node_modules", "build", "dist", "*.egg-info", "data"
        ),
    )
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist"],
        cwd=source,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "run scripts/web-assets" in result.stdout + result.stderr
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.whl"))
