"""The floor: the least work any server must do to answer a REST test run of N cases.

Read the same rows with the same query the server uses (app/domain/datasets.py, read_cases)
from the server's own SQLite file, and serialise one body with the keys of the REST answer
(app/api/rest/rendering.py), splicing the stored JSON texts in unparsed. No HTTP, no auth, no
write: a lower bound to compare the real server with.
"""

import sqlite3
import uuid
from pathlib import Path

import orjson

from bench.cases import DatasetInfo

QUERY = (
    "SELECT id, position, inputs, output, output_message, history, metadata, media_inputs "
    "FROM test_cases WHERE dataset_id = ? AND valid_from <= ? "
    "AND (valid_to IS NULL OR valid_to > ?) ORDER BY position"
)


class Floor:
    def __init__(self, db_path: Path) -> None:
        self.conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)

    def respond(self, dataset: DatasetInfo) -> bytes:
        """A create-test-run body with the dataset's cases and their expected outputs."""
        version = dataset.version
        rows = self.conn.execute(QUERY, (dataset.id, version, version)).fetchall()
        return orjson.dumps(
            {
                "test_run_id": str(uuid.uuid4()),
                "test_run_name": f"{dataset.name} 2025-01-01 00:00:00",
                "test_run_description": "",
                "test_cases": [_case(*row) for row in rows],
                "trace_test_cases": None,
            }
        )

    def close(self) -> None:
        self.conn.close()


def _json(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def _case(
    id: str,
    _position: int,
    inputs: str,
    output: str | None,
    output_message: str | None,
    history: str | None,
    metadata: str | None,
    media_inputs: str | None,
) -> dict[str, object]:
    values = orjson.Fragment(inputs)
    meta = _json(metadata)
    return {
        "id": id,
        "test_case_id": id,
        "values": values,
        "variables": values,
        "output": _json(output),
        "output_message": _json(output_message),
        "history": _json(history),
        "metadata": meta,
        "custom_metadata": meta,
        "media_variables": _json(media_inputs),
        "test_case_type": "completion",
    }
