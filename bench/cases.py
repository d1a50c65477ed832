"""The benchmark's data: realistic completion test cases, added through the public REST API."""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.client import Client

CHUNK = 10_000  # the server's default limit of cases per request

SAMPLE_TEXT = (
    "the order arrived late and the box was damaged so I would like a refund or a replacement "
    "please check my account settings because the invoice shows a charge twice this month "
    "our team cannot log in after the update and the password reset email never comes "
    "thank you for your patience we have escalated this to billing and will follow up today"
)
WORDS = tuple(SAMPLE_TEXT.split())
NAMES = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Frances", "Edsger")
PRODUCTS = ("Starter plan", "Team plan", "Enterprise plan", "Mobile app", "Desktop app")
TONES = ("friendly", "formal", "concise", "apologetic")
SOURCES = ("support-inbox", "chat-widget", "phone-transcript", "forum")
TAGS = ("billing", "login", "shipping", "refund", "bug", "feature-request", "account")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    id: str
    version: int
    count: int


def _text(rng: random.Random, low: int, high: int) -> str:
    """Words up to a length drawn between ``low`` and ``high`` characters."""
    length = rng.randint(low, high)
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words).capitalize()[:length].rstrip() + "."


def _message(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "content": [{"type": "text", "text": text}]}


def example(rng: random.Random, index: int) -> dict[str, Any]:
    """One completion case as the Freeplay SDK sends it: about 1 KB of JSON."""
    answer = _text(rng, 100, 300)
    return {
        "inputs": {
            "customer_name": rng.choice(NAMES),
            "product": rng.choice(PRODUCTS),
            "question": _text(rng, 60, 160),
            "tone": rng.choice(TONES),
        },
        "output": answer,
        "output_message": _message("assistant", answer),
        "history": [
            _message("user", _text(rng, 30, 90)),
            _message("assistant", _text(rng, 30, 90)),
        ],
        "metadata": {
            "source": rng.choice(SOURCES),
            "case_number": index,
            "priority": rng.randint(1, 5),
            "tags": rng.sample(TAGS, 2),
        },
        "media_inputs": None,
    }


def examples(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    return (example(rng, i) for i in range(count))


def create_dataset(client: Client, project_id: str, name: str, count: int) -> DatasetInfo:
    """A completion dataset of ``count`` cases, added in chunks of at most CHUNK."""
    base = f"/api/v2/projects/{project_id}"
    created = client.json(
        "POST",
        f"{base}/prompt-datasets",
        {
            "name": name,
            "description": f"{count} generated support replies",
            "input_names": ["customer_name", "product", "question", "tone"],
            "support_history": True,
        },
        expect=201,
    )
    chunk: list[dict[str, Any]] = []
    for case in examples(count):
        chunk.append(case)
        if len(chunk) == CHUNK:
            add_cases(client, project_id, created["id"], chunk)
            chunk = []
    if chunk:
        add_cases(client, project_id, created["id"], chunk)
    return lookup(client, project_id, name)


def add_cases(
    client: Client, project_id: str, dataset_id: str, cases: list[dict[str, Any]]
) -> None:
    path = f"/api/v2/projects/{project_id}/datasets/id/{dataset_id}/test-cases"
    client.json("POST", path, {"examples": cases}, expect=201)


def lookup(client: Client, project_id: str, name: str) -> DatasetInfo:
    found = client.json("GET", f"/api/v2/projects/{project_id}/datasets/name/{name}")
    return DatasetInfo(name, found["id"], found["version"], found["test_case_count"])
