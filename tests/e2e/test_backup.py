"""`testruns backup FILE`: a consistent copy of a live SQLite database taking writes; served
from the copy, it holds every write acknowledged before the backup began, each whole."""

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from tests.e2e.load import Writers, check_database, prepare
from tests.e2e.processes import TESTRUNS, serving


def test_backup_under_write_load_restores_whole(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "testruns.db"
    shutil.copy(sqlite_template, database)
    url_of = f"sqlite+aiosqlite:///{database}"
    copy = tmp_path / "backups" / "copy.db"
    copy.parent.mkdir()
    with serving({"TESTRUNS_DATABASE_URL": url_of}, tmp_path) as (_, url):
        target = prepare(url_of, url)
        with Writers(url, target) as writers:
            writers.wait_for(60)
            before = writers.snapshot()
            backup = subprocess.run(
                [TESTRUNS, "backup", str(copy)],
                env={**os.environ, "TESTRUNS_DATABASE_URL": url_of},
                capture_output=True,
                text=True,
            )
            writers.wait_for(30)  # the server goes on taking writes after the copy
        assert backup.returncode == 0, backup.stderr
        assert writers.seen.failures == []

    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.db"]
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = tmp_path / "restored"
    restored.mkdir()
    with serving({"TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{copy}"}, restored) as (_, url):
        held = check_database(url, target, before)
    # The copy is of one moment during the load: writes after it are not in it (the first
    # batch was added before the load).
    assert held["batches"] - 1 < len(writers.seen.batches)


def test_backup_refuses_postgresql_and_points_to_pg_dump(tmp_path: Path) -> None:
    result = subprocess.run(
        [TESTRUNS, "backup", str(tmp_path / "copy.db")],
        env={"TESTRUNS_DATABASE_URL": "postgresql+asyncpg://u@127.0.0.1:1/testruns"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "pg_dump" in result.stderr
    assert not (tmp_path / "copy.db").exists()


def test_backup_refuses_to_overwrite_a_file(sqlite_template: Path, tmp_path: Path) -> None:
    existing = tmp_path / "copy.db"
    existing.write_text("keep me")
    result = subprocess.run(
        [TESTRUNS, "backup", str(existing)],
        env={"TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{sqlite_template}"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "exists" in result.stderr
    assert existing.read_text() == "keep me"
