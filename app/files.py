"""Dataset files: JSONL, JSON and CSV in, JSONL out.

Readers stream: they hold one record at a time, whatever the file's size, and yield
``(line number, record)``; a record that cannot even be parsed is yielded as an
``ExampleError`` in its place so that the importer reports it with the others. JSONL files
are cut into byte ranges instead, each read, decoded and checked on its own (in the
importer's worker processes).
"""

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from app.db import scratch as scratch_rows
from app.db.scratch import ScratchRows
from app.domain.examples import MAX_REPORTED_ERRORS, ExampleError, TestCaseType, check_chunk
from app.errors import FieldError

Example = tuple[int, Any]
Progress = Callable[[int], None]

FORMATS = (".jsonl", ".json", ".csv")
_CHUNK = 1 << 20


class UnsupportedFile(ValueError):
    pass


Decode = Callable[[Any], Any]


def read_records(
    path: Path, kind: TestCaseType, progress: Progress
) -> tuple[Iterator[Example], Decode | None]:
    """The records of a .json or .csv file and how to decode one; ``progress`` is told of
    the bytes read. (JSONL is read in ranges: ``jsonl_ranges`` and ``check_jsonl``.)"""
    suffix = path.suffix.lower()
    if suffix not in FORMATS or suffix == ".jsonl":
        raise UnsupportedFile(f"{path.name}: use a .jsonl, .json or .csv file")
    if suffix == ".json":
        return _read(path, lambda raw: _json_array(raw, progress)), None
    return _read(path, lambda raw: _csv(raw, kind, progress)), None


def _read(path: Path, records: Callable[[IO[bytes]], Iterator[Example]]) -> Iterator[Example]:
    with path.open("rb") as raw:
        yield from records(raw)


def jsonl_ranges(path: Path, size: int = _CHUNK) -> list[tuple[int, int]]:
    """The file cut into byte ranges of about ``size`` that start and end at line starts,
    so that each can be read and checked on its own, in any process."""
    ranges, start = [], 0
    with path.open("rb") as raw:
        end = raw.seek(0, io.SEEK_END)
        while start < end:
            raw.seek(min(start + size, end))
            raw.readline()
            stop = min(raw.tell(), end)
            ranges.append((start, stop))
            start = stop
    return ranges


def check_jsonl(
    path: Path, start: int, stop: int, kind: TestCaseType, max_bytes: int, scratch: Path
) -> tuple[tuple[ScratchRows, list[FieldError]], int]:
    """Check one range of a JSONL file, about a megabyte at a time, writing its rows into the
    new scratch file ``scratch``: the rows, or none and the problems found, and the lines the
    range spans. Line numbers in its problems count from the range's first line (1); blank
    lines are skipped. Once ``MAX_REPORTED_ERRORS`` are found the rest is not read."""
    problems: list[FieldError] = []
    lines = 0
    with path.open("rb") as raw, scratch_rows.writing(scratch) as rows:
        raw.seek(start)
        left, carried = stop - start, b""
        while left or carried:
            read = raw.read(min(_CHUNK, left))
            left = left - len(read) if read else 0  # a file cut short ends the range
            data = carried + read
            cut = data.rfind(b"\n") + 1 if left else len(data)
            if not cut:  # a line longer than what was read: read on
                carried = data
                continue
            piece, carried = data[:cut], data[cut:]
            records = [
                (lines + number, line)
                for number, line in enumerate(piece.split(b"\n"), 1)
                if line.strip()
            ]
            lines += piece.count(b"\n")
            checked, found = check_chunk(kind, max_bytes, orjson.loads, records)
            problems.extend(found[: MAX_REPORTED_ERRORS - len(problems)])
            if len(problems) >= MAX_REPORTED_ERRORS:
                break
            if not problems:
                rows.write(checked)
    written = ScratchRows(scratch, 0 if problems else rows.count)
    return (written, problems), lines


def _json_array(raw: IO[bytes], progress: Progress) -> Iterator[Example]:
    """The items of a top-level JSON array, decoded one at a time from a sliding buffer."""
    decoder = json.JSONDecoder()
    text = io.TextIOWrapper(raw, encoding="utf-8")
    buffer, pos, line, eof = "", 0, 1, False

    def fill() -> bool:
        nonlocal buffer, pos, eof
        chunk = text.read(_CHUNK)
        progress(len(chunk.encode()))
        eof = not chunk
        buffer, pos = buffer[pos:] + chunk, 0
        return not eof

    def skip_space() -> None:
        nonlocal pos, line
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                line += buffer[pos] == "\n"
                pos += 1
            if pos < len(buffer) or not fill():
                return

    skip_space()
    if buffer[pos : pos + 1] != "[":
        yield line, ExampleError((), "a .json file must hold an array of test cases")
        return
    pos += 1
    expect_item = True
    while True:
        skip_space()
        if pos >= len(buffer):
            yield line, ExampleError((), "the array is not closed with ']'")
            return
        if buffer[pos] == "]":
            return
        if not expect_item:
            if buffer[pos] != ",":
                yield line, ExampleError((), "expected ',' or ']' between test cases")
                return
            pos += 1
            skip_space()
        while True:
            try:
                item, end = decoder.raw_decode(buffer, pos)
                break
            except json.JSONDecodeError as error:
                if eof or not fill():
                    yield line, ExampleError((), f"not valid JSON: {error.msg}")
                    return
        yield line, item
        line += buffer.count("\n", pos, end)
        pos = end
        expect_item = False


def _csv(raw: IO[bytes], kind: TestCaseType, progress: Progress) -> Iterator[Example]:
    """Columns are variables, except ``output`` and ``metadata.<key>`` (for a trace dataset:
    ``input``, ``output`` and ``metadata.<key>``, with cells read as JSON when they are)."""
    counted = _CountingReader(raw, progress)
    text = io.TextIOWrapper(io.BufferedReader(counted), encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    columns = reader.fieldnames or []
    if kind is TestCaseType.TRACE and "input" not in columns:
        yield 1, ExampleError((), "a trace dataset's CSV needs an 'input' column")
        return
    for record in reader:
        number = reader.line_num
        if None in record:
            yield number, ExampleError((), "the row has more cells than the header")
            continue
        yield number, _csv_example(record, kind)


def _csv_example(record: dict[str, str], kind: TestCaseType) -> dict[str, Any]:
    metadata = {
        key.removeprefix("metadata."): value
        for key, value in record.items()
        if key.startswith("metadata.") and value != ""
    }
    output = record.get("output") or None
    if kind is TestCaseType.TRACE:
        return {
            "input": _cell_json(record["input"]),
            "output": None if output is None else _cell_json(output),
            "custom_metadata": metadata or None,
        }
    inputs = {
        key: value
        for key, value in record.items()
        if key != "output" and not key.startswith("metadata.")
    }
    return {"inputs": inputs, "output": output, "metadata": metadata or None}


def _cell_json(cell: str) -> Any:
    try:
        return orjson.loads(cell)
    except orjson.JSONDecodeError:
        return cell


class _CountingReader(io.RawIOBase):
    def __init__(self, raw: IO[bytes], progress: Progress) -> None:
        self.raw = raw
        self.progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.progress(len(data))
        return len(data)


def write_jsonl(file: IO[bytes], example: dict[str, Any]) -> None:
    file.write(orjson.dumps(example) + b"\n")


# ---- test run results --------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A CSV cell: text as it is, anything else as JSON, nothing as empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else orjson.dumps(value).decode()


USAGE_COLUMNS = ("latency_ms", "prompt_tokens", "completion_tokens", "cost")


class ResultsCsv:
    """CSV of a run's results: one row per case (per repetition), a column per score."""

    def __init__(self, score_columns: list[tuple[str, str]]) -> None:
        self.score_columns = score_columns
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def _line(self, cells: list[str]) -> bytes:
        self._writer.writerow(cells)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()

    def header(self) -> bytes:
        columns = ["test_case_id", "repetition", "inputs", "expected_output", "output"]
        columns += list(USAGE_COLUMNS)
        return self._line(columns + [f"{source}.{name}" for source, name in self.score_columns])

    def row(self, row: dict[str, Any]) -> bytes:
        scores = row["scores"]
        return self._line(
            [
                row["test_case_id"],
                _cell(row["repetition"]),
                _cell(row["inputs"]),
                _cell(row["expected_output"]),
                _cell(row["output"]),
                *(_cell(row.get(column)) for column in USAGE_COLUMNS),
                *(_cell(scores.get(source, {}).get(name)) for source, name in self.score_columns),
            ]
        )


async def result_lines(
    rows: AsyncIterator[dict[str, Any]], score_columns: list[tuple[str, str]], fmt: str
) -> AsyncIterator[bytes]:
    """A run's results file, line by line: ``fmt`` is "csv" or "jsonl"."""
    if fmt == "jsonl":
        async for row in rows:
            yield orjson.dumps(row) + b"\n"
        return
    table = ResultsCsv(score_columns)
    yield table.header()
    async for row in rows:
        yield table.row(row)
