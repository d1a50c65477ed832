"""`testruns import` and `testruns export`, run as a user runs them."""

import csv
import os
import signal
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

import orjson
import pytest

from app import importer
from app.db.engine import Database
from app.domain import datasets, projects, result_recording, results, test_cases, test_runs
from app.domain.datasets import NewDataset, TestCaseType
from app.domain.keys import OPERATOR
from app.settings import Settings
from tests.support import completion_example, trace_example

TESTRUNS = str(Path(sys.executable).parent / "testruns")


def cli(
    database_url: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TESTRUNS_DATABASE_URL": database_url, **(env or {})}
    return subprocess.run(
        [TESTRUNS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def write_jsonl(path: Path, examples: list[dict]) -> Path:  # type: ignore[type-arg]
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in examples))
    return path


async def listed(db: Database, project_id: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, name)
    return [e async for e in test_cases.export_examples(db, OPERATOR, project_id, dataset.id)]


@pytest.fixture
async def project_id(db: Database) -> str:
    return (await projects.create_project(db, "Imports")).id


async def test_jsonl_import_creates_the_dataset_and_one_version(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    examples = [completion_example(i) for i in range(25)]
    source = write_jsonl(tmp_path / "cases.jsonl", examples)

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--create",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert "Imported 25 test cases as version 1" in done.stdout
    assert await listed(db, project_id, "qa") == examples


async def test_json_array_import(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    examples = [completion_example(i) for i in range(7)]
    source = tmp_path / "cases.json"
    source.write_bytes(orjson.dumps(examples, option=orjson.OPT_INDENT_2))

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--create",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert await listed(db, project_id, "qa") == examples


async def test_csv_columns_become_variables_output_and_metadata(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    source = tmp_path / "cases.csv"
    with source.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["question", "topic", "output", "metadata.source"])
        writer.writerow(["What is 2+2?", "math", "4", "quiz"])
        writer.writerow(["Say hi, politely", "chat", "", ""])

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--create",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    cases = await listed(db, project_id, "qa")
    assert [(c["inputs"], c["output"], c["metadata"]) for c in cases] == [
        ({"question": "What is 2+2?", "topic": "math"}, "4", {"source": "quiz"}),
        ({"question": "Say hi, politely", "topic": "chat"}, None, None),
    ]


async def test_trace_files_import_into_a_trace_dataset(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    jsonl = write_jsonl(tmp_path / "traces.jsonl", [trace_example(i) for i in range(3)])
    table = tmp_path / "traces.csv"
    table.write_text('input,output,metadata.kind\n"{""task"": ""x""}",done,demo\nplain text,,\n')

    first = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "agents",
        "--create",
        "--type",
        "trace",
        str(jsonl),
        cwd=tmp_path,
    )
    second = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "agents",
        str(table),
        cwd=tmp_path,
    )

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    cases = await listed(db, project_id, "agents")
    assert cases[:3] == [trace_example(i) for i in range(3)]
    assert cases[3:] == [
        {"input": {"task": "x"}, "output": "done", "custom_metadata": {"kind": "demo"}},
        {"input": "plain text", "output": None, "custom_metadata": None},
    ]
    dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, "agents")
    assert dataset.version == 2


async def test_errors_are_reported_with_line_numbers_and_nothing_is_imported(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    lines = [orjson.dumps(completion_example(i)).decode() for i in range(10)]
    lines[2] = '{"inputs": "not an object"}'
    lines[6] = "{broken json"
    lines[8] = '{"inputs": {}, "colour": "blue"}'
    source = tmp_path / "bad.jsonl"
    source.write_text("\n".join(lines) + "\n")

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "nothing imported" in done.stderr
    assert "line 3: inputs: must be a JSON object" in done.stderr
    assert "line 7: not valid JSON" in done.stderr
    assert "line 9: colour: unknown key" in done.stderr
    dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, "qa")
    assert (dataset.version, dataset.case_count) == (0, 0)


async def test_a_bad_line_after_many_inserted_rows_leaves_nothing_and_is_located(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    """A file read in several ranges, checked in helper processes and written chunk by
    chunk (COPY on PostgreSQL): a problem near the end still undoes everything, and line
    numbers count from the top of the file, blank lines included."""
    await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    await test_cases.add_test_cases(
        db,
        OPERATOR,
        project_id,
        (await datasets.get_dataset_by_name(db, OPERATOR, project_id, "qa")).id,
        [completion_example(0)],
    )
    padding = "x" * 600
    lines = [
        orjson.dumps({"inputs": {"question": f"{i} {padding}"}, "output": str(i)}).decode()
        for i in range(6_000)
    ]
    lines[99] = ""  # a blank line is skipped but counted
    lines[5_499] = '{"inputs": {"question": "q"}, "output": 5}'
    lines[5_999] = '{"inputs": {"question": "q"}, "color": "red"}'
    source = tmp_path / "long.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert source.stat().st_size > 3 * (1 << 20)  # several ranges

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "nothing imported" in done.stderr
    assert "line 5500: output: output must be a string or null" in done.stderr
    assert "line 6000: color: unknown key" in done.stderr
    dataset = await datasets.get_dataset_by_name(db, OPERATOR, project_id, "qa")
    assert (dataset.version, dataset.case_count) == (1, 1)
    assert await listed(db, project_id, "qa") == [completion_example(0)]

    lines[5_499] = lines[5_999] = lines[0]
    source.write_text("\n".join(lines) + "\n")
    again = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "qa",
        str(source),
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    cases = await listed(db, project_id, "qa")
    assert len(cases) == 1 + 5_999
    first = orjson.loads(lines[0])
    assert (cases[1]["inputs"], cases[1]["output"]) == (first["inputs"], first["output"])
    assert (cases[-1]["inputs"], cases[-1]["output"]) == (first["inputs"], first["output"])
    assert cases[100]["inputs"]["question"].startswith("100 ")  # after the blank line
    assert [case["output"] for case in cases[1:6]] == ["0", "1", "2", "3", "4"]


async def test_a_line_longer_than_a_read_is_read_whole_and_no_scratch_file_is_left(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    """Each range of a file is checked a megabyte at a time into a scratch file of its own;
    a line may be longer than that. The scratch files go when the import ends, imported or
    refused."""
    long_case = {**completion_example(1), "output": "x" * 1_500_000}
    examples = [completion_example(0), long_case, completion_example(2)]
    source = write_jsonl(tmp_path / "long.jsonl", examples)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch), "TESTRUNS_MAX_TEST_CASE_BYTES": "2000000"}

    def run(file: Path) -> subprocess.CompletedProcess[str]:
        args = ("import", "--project", project_id, "--dataset", "qa", "--create", str(file))
        return cli(database_url, *args, cwd=tmp_path, env=env)

    done = run(source)
    assert done.returncode == 0, done.stderr
    assert await listed(db, project_id, "qa") == examples
    assert list(scratch.iterdir()) == []

    refused = run(write_jsonl(tmp_path / "bad.jsonl", [long_case, {"inputs": 1}]))
    assert refused.returncode == 1
    assert "line 2: inputs: must be a JSON object" in refused.stderr
    assert list(scratch.iterdir()) == []


async def test_imports_in_one_process_leave_no_scratch_file_attached(
    db: Database,
    settings: Settings,
    project_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite an import attaches its scratch files to its transaction's connection, and
    SQLite refuses to detach them before the transaction ends: they are detached as the
    connection goes back to the pool, which may give it to anything next."""
    monkeypatch.setattr(importer, "MIN_RANGE", 1)  # a few cases per range: eight ranges
    source = write_jsonl(tmp_path / "cases.jsonl", [completion_example(i) for i in range(40)])
    for number in range(3):  # 24 files in all; SQLite attaches at most 10 to a connection
        scratch = tmp_path / str(number)
        scratch.mkdir()
        checks = importer.JsonlChecks(
            source, TestCaseType.COMPLETION, None, settings.max_test_case_bytes, scratch
        )
        status = await importer.run_import(db, source, project_id, "qa", True, None, None, checks)
        assert status == 0
        assert len(list(scratch.iterdir())) == 8
    assert len(await listed(db, project_id, "qa")) == 3 * 40
    if not db.is_sqlite:
        return
    async with AsyncExitStack() as stack:  # every connection the pool holds
        for _ in range(settings.db_pool_size):
            conn = await stack.enter_async_context(db.read())
            schemas = [row[1] for row in await conn.exec_driver_sql("PRAGMA database_list")]
            assert schemas == ["main"]


async def test_a_trace_dataset_found_by_name_is_imported_as_traces(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    """Checking starts before the dataset is looked up, as completions unless --type says
    otherwise; a trace dataset found without --type is checked again as traces."""
    await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("agents", TestCaseType.TRACE)
    )
    source = write_jsonl(tmp_path / "traces.jsonl", [trace_example(i) for i in range(3)])

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "agents",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert await listed(db, project_id, "agents") == [trace_example(i) for i in range(3)]


async def test_on_postgresql_the_rows_go_in_through_copy(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    """The import writes its rows with COPY, not row inserts: a statement trigger on the
    table records the statements that insert into it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("COPY is PostgreSQL's")
    import asyncpg

    raw = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await raw.execute(
            "CREATE TABLE import_statements (query text);"
            "CREATE FUNCTION log_import_statement() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN INSERT INTO import_statements VALUES (current_query()); RETURN NULL; END $$;"
            "CREATE TRIGGER log_import AFTER INSERT ON test_cases"
            " FOR EACH STATEMENT EXECUTE FUNCTION log_import_statement();"
        )
        source = write_jsonl(tmp_path / "cases.jsonl", [completion_example(i) for i in range(50)])
        done = cli(
            database_url,
            "import",
            "--project",
            project_id,
            "--dataset",
            "qa",
            "--create",
            str(source),
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        queries = [row["query"] for row in await raw.fetch("SELECT query FROM import_statements")]
    finally:
        await raw.execute(
            "DROP TRIGGER IF EXISTS log_import ON test_cases;"
            "DROP FUNCTION IF EXISTS log_import_statement();"
            "DROP TABLE IF EXISTS import_statements;"
        )
        await raw.close()
    assert queries
    assert all(query.lstrip().upper().startswith("COPY") for query in queries)
    assert await listed(db, project_id, "qa") == [completion_example(i) for i in range(50)]


async def test_a_missing_dataset_needs_create(
    database_url: str, project_id: str, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "cases.jsonl", [completion_example(1)])

    done = cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "nope",
        str(source),
        cwd=tmp_path,
    )

    assert done.returncode == 1
    assert "--create" in done.stderr


async def test_export_then_import_round_trips_exactly(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    examples = [completion_example(i) for i in range(12)]
    examples[3]["output_message"] = {"role": "assistant", "content": "plain string content"}
    examples[4]["media_inputs"] = {"img": {"type": "url", "url": "https://example.com/x.png"}}
    source = write_jsonl(tmp_path / "source.jsonl", examples)
    cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "a",
        "--create",
        str(source),
        cwd=tmp_path,
    )

    first = tmp_path / "first.jsonl"
    second = tmp_path / "second.jsonl"
    exported = cli(
        database_url, "export", "--project", project_id, "--dataset", "a", str(first), cwd=tmp_path
    )
    cli(
        database_url,
        "import",
        "--project",
        project_id,
        "--dataset",
        "b",
        "--create",
        str(first),
        cwd=tmp_path,
    )
    cli(
        database_url, "export", "--project", project_id, "--dataset", "b", str(second), cwd=tmp_path
    )

    assert exported.returncode == 0, exported.stderr
    assert "Exported 12 test cases" in exported.stdout
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes().splitlines()) == 12


async def test_export_of_a_past_version(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    dataset = await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    await test_cases.add_test_cases(db, OPERATOR, project_id, dataset.id, [completion_example(1)])
    await test_cases.add_test_cases(db, OPERATOR, project_id, dataset.id, [completion_example(2)])
    target = tmp_path / "v1.jsonl"

    done = cli(
        database_url,
        "export",
        "--project",
        project_id,
        "--dataset",
        "qa",
        "--version",
        "1",
        str(target),
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert [orjson.loads(line) for line in target.read_bytes().splitlines()] == [
        completion_example(1)
    ]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def assert_gone(pids: list[int], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _running(pid)]
        if not alive:
            return
        time.sleep(0.1)
    raise AssertionError(f"processes {alive} outlived the importer")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's record remains


async def test_an_interrupted_import_leaves_the_previous_version_intact(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    dataset = await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    await test_cases.add_test_cases(db, OPERATOR, project_id, dataset.id, [completion_example(0)])
    source = tmp_path / "big.jsonl"
    row = orjson.dumps({"inputs": {"question": "q" * 200}, "output": "a" * 200}) + b"\n"
    source.write_bytes(row * 500_000)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TESTRUNS_DATABASE_URL": database_url, "TMPDIR": str(scratch)}
    importer = subprocess.Popen(
        [TESTRUNS, "import", "--project", project_id, "--dataset", "qa", str(source)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert importer.stdout is not None
    assert b"Importing" in importer.stdout.readline()
    time.sleep(1.0)  # well inside an import that takes several seconds
    assert importer.poll() is None, "the import finished before it could be interrupted"
    helpers = children(importer.pid)
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)
    assert helpers, "the import checks its rows in helper processes"
    assert_gone(helpers)  # none outlives the importer
    assert list(scratch.iterdir()) == []  # nor its scratch files

    after = await datasets.get_dataset_by_name(db, OPERATOR, project_id, "qa")
    assert (after.version, after.case_count) == (1, 1)
    assert await listed(db, project_id, "qa") == [completion_example(0)]
    small = write_jsonl(tmp_path / "small.jsonl", [completion_example(5)])
    retry = cli(
        database_url, "import", "--project", project_id, "--dataset", "qa", str(small), cwd=tmp_path
    )
    assert retry.returncode == 0, retry.stderr
    assert "as version 2" in retry.stdout


async def test_export_results_writes_one_row_per_case(
    db: Database, database_url: str, project_id: str, tmp_path: Path
) -> None:
    dataset = await datasets.create_dataset(
        db, OPERATOR, project_id, NewDataset("qa", TestCaseType.COMPLETION)
    )
    added = await test_cases.add_test_cases(
        db, OPERATOR, project_id, dataset.id, [completion_example(i) for i in range(3)]
    )
    run = await test_runs.create_test_run(db, OPERATOR, project_id, test_runs.NewTestRun("qa"))
    await result_recording.record_result(
        db,
        OPERATOR,
        run.id,
        results.NewResult(added.case_ids[1], output="one", eval_results={"ok": True}),
    )

    jsonl, table = tmp_path / "r.jsonl", tmp_path / "r.csv"
    first = cli(database_url, "export-results", "--run", run.id, str(jsonl), cwd=tmp_path)
    second = cli(database_url, "export-results", "--run", run.id, str(table), cwd=tmp_path)
    wrong = cli(
        database_url, "export-results", "--run", run.id, str(tmp_path / "r.xlsx"), cwd=tmp_path
    )

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert wrong.returncode == 1
    rows = [orjson.loads(line) for line in jsonl.read_bytes().splitlines()]
    assert [r["test_case_id"] for r in rows] == list(added.case_ids)
    assert rows[1]["output"] == "one"
    assert rows[1]["scores"] == {"client": {"ok": True}}
    assert rows[1]["expected_output"] == completion_example(1)["output"]
    with table.open() as file:
        assert [r["client.ok"] for r in csv.DictReader(file)] == ["", "true", ""]
