"""Times three ways to render a page of stored test cases as a REST body (not a test):

- ``text``: the stored JSON spliced into f-strings (``app.api.rest.rendering``),
- ``fragment``: dicts holding the stored JSON as ``orjson.Fragment``, serialised by orjson,
- ``parsed``: the stored JSON parsed and the dicts serialised by orjson (the plain path).

    python -m bench.fragments [--cases 2000] [--repeat 30]
"""

import argparse
import random
import timeit
import uuid

import orjson

from app.api.rest import rendering
from bench.cases import WORDS


def stored_cases(count: int) -> list[tuple]:
    rng = random.Random(7)

    def text(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    cases = []
    for _ in range(count):
        inputs = {"question": text(40), "customer": text(2), "product": text(3)}
        message = {"role": "assistant", "content": [{"type": "text", "text": text(50)}]}
        history = [{"role": "user", "content": [{"type": "text", "text": text(20)}]}]
        metadata = {"source": "support-inbox", "tags": ["billing", "refund"], "priority": 2}
        cases.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128))),
                None,
                orjson.dumps(inputs).decode(),
                orjson.dumps(text(30)).decode(),
                orjson.dumps(message).decode(),
                orjson.dumps(history).decode(),
                orjson.dumps(metadata).decode(),
                None,
            )
        )
    return cases


def _fragment(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def fragment_case(case: tuple) -> dict:
    """``rendering.run_completion_case``'s shape with the stored JSON as fragments."""
    case_id, _, inputs, output, output_message, history, metadata, media_inputs, *_ = case
    values, metadata = orjson.Fragment(inputs), _fragment(metadata)
    return {
        "id": case_id,
        "test_case_id": case_id,
        "values": values,
        "variables": values,
        "output": _fragment(output),
        "output_message": _fragment(output_message),
        "history": _fragment(history),
        "metadata": metadata,
        "custom_metadata": metadata,
        "media_variables": _fragment(media_inputs),
        "test_case_type": "completion",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    cases = stored_cases(args.cases)

    def text() -> bytes:  # what the fast path does
        return rendering.FAST.array(
            cases, lambda c: rendering.run_completion_case(c, True)
        ).encode()

    def parsed() -> bytes:  # what it does with TESTRUNS_FAST_JSON off
        render = rendering.PLAIN.run_completion_case
        return rendering.PLAIN.array(cases, lambda c: render(c, True)).encode()

    def fragments_per_case() -> bytes:  # the str-per-case interface the routes use
        return b"[" + b",".join(orjson.dumps(fragment_case(c)) for c in cases) + b"]"

    def fragments_per_page() -> bytes:  # one orjson.dumps per page
        return orjson.dumps([fragment_case(c) for c in cases])

    ways = {
        "text": text,
        "fragment/case": fragments_per_case,
        "fragment/page": fragments_per_page,
        "parsed": parsed,
    }
    expected = orjson.loads(text())
    assert all(orjson.loads(way()) == expected for way in ways.values())
    for name, way in ways.items():
        best = min(timeit.repeat(way, number=1, repeat=args.repeat))
        print(f"{name:14} {best * 1e3:7.2f} ms per {args.cases} cases")


if __name__ == "__main__":
    main()
