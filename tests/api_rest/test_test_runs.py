"""Test runs over REST beyond creation: list, read with summary, complete, subsets, export."""

import asyncio
import csv
import io
import uuid

import orjson

from tests.support import Api, assert_problem, completion_example, create_evaluation, record

RUN_KEYS = {
    "id", "test_run_id", "name", "description", "status", "created_at", "completed_at",
    "dataset_id", "dataset_name", "dataset_version", "test_case_type", "test_case_count",
    "flavor_name", "include_outputs", "target_evaluation_ids", "test_case_filter", "progress",
    "prompt_name", "prompt_version", "model_name", "sessions_count", "test_case_id",
}  # fmt: skip


async def test_runs_are_listed_newest_first_in_pages(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    await api.dataset_with_cases("other", [completion_example(2)])
    made = [(await api.create_run(name)).json()["test_run_id"] for name in ("qa", "other", "qa")]

    first = (await api.get("/test-runs", params={"page": 1, "page_size": 2})).json()
    second = (await api.get("/test-runs", params={"page": 2, "page_size": 2})).json()
    only_qa = (
        await api.get(
            "/test-runs", params={"dataset_id": (await api.get("/datasets/name/qa")).json()["id"]}
        )
    ).json()

    assert [r["id"] for r in first["test_runs"] + second["test_runs"]] == made[::-1]
    assert first["total"] == 3
    assert set(first["test_runs"][0]) == RUN_KEYS
    assert first["test_runs"][0]["dataset_name"] == "qa"
    assert [r["id"] for r in only_qa["test_runs"]] == [made[2], made[0]]
    created = (await api.get("/test-runs", params={"status": "created"})).json()
    assert created["total"] == 3


async def test_the_total_counts_every_run_made_at_once_and_only_the_projects(
    api: Api, other_api: Api
) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    await other_api.dataset_with_cases("qa", [completion_example(2)])
    await other_api.create_run("qa")

    made = await asyncio.gather(*(api.create_run("qa") for _ in range(12)))

    assert all(r.status_code == 201 for r in made)
    listed = (await api.get("/test-runs", params={"page_size": 1})).json()
    assert listed["total"] == 12
    empty_page = (await api.get("/test-runs", params={"page": 99})).json()
    assert (empty_page["test_runs"], empty_page["total"]) == ([], 12)
    query = "query($id: ID!) { project(id: $id) { testRuns(first: 1) { totalCount } } }"
    counted = await api.graphql(query, {"id": api.project_id})
    assert counted["data"]["project"]["testRuns"]["totalCount"] == 12
    assert (await other_api.get("/test-runs")).json()["total"] == 1


async def test_reading_a_run_gives_the_keys_the_sdks_read(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(1)])
    run_id = (await api.create_run("qa", test_run_name="r1", test_run_description="d")).json()[
        "test_run_id"
    ]

    body = (await api.get(f"/test-runs/id/{run_id}")).json()

    assert body["id"] == body["test_run_id"] == run_id
    assert (body["name"], body["description"], body["status"]) == ("r1", "d", "created")
    assert set(body["summary_statistics"]) == {
        "auto_evaluation",
        "human_evaluation",
        "client_evaluation",
    }
    assert body["progress"] == {"done": 0, "total": 1}


async def test_unknown_or_foreign_runs_are_404(api: Api, other_api: Api) -> None:
    await other_api.dataset_with_cases("theirs", [completion_example(1)])
    theirs = (await other_api.create_run("theirs")).json()["test_run_id"]

    for run_id in (str(uuid.uuid4()), "nope", theirs):
        assert_problem(await api.get(f"/test-runs/id/{run_id}"), 404, "not_found")


async def test_complete_marks_the_run_completed(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    run_id = (await api.create_run("qa")).json()["test_run_id"]

    response = await api.post(f"/test-runs/id/{run_id}/complete")

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    assert response.json()["completed_at"] is not None


async def test_a_subset_of_explicit_ids_and_metadata(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(6)])
    all_cases = (await api.create_run("qa")).json()["test_cases"]
    ids = [c["id"] for c in all_cases]

    by_id = (
        await api.create_run("qa", test_case_filter={"test_case_ids": [ids[4], ids[1]]})
    ).json()
    by_meta = (await api.create_run("qa", test_case_filter={"metadata": {"tag": "even"}})).json()
    both = (
        await api.create_run(
            "qa", test_case_filter={"metadata": {"tag": "even"}, "test_case_ids": [ids[1], ids[2]]}
        )
    ).json()

    assert [c["id"] for c in by_id["test_cases"]] == [ids[1], ids[4]]
    assert [c["values"]["n"] for c in by_meta["test_cases"]] == [0, 2, 4]
    assert [c["id"] for c in both["test_cases"]] == [ids[2]]
    run = (await api.get(f"/test-runs/id/{by_id['test_run_id']}")).json()
    assert run["test_case_count"] == 2
    assert run["test_case_filter"] == {"test_case_ids": [ids[4], ids[1]]}


async def test_a_rerun_of_the_cases_that_failed(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(5)])
    first = (await api.create_run("qa")).json()
    for i, case in enumerate(first["test_cases"]):
        await record(
            api, first["test_run_id"], case["id"], evalResults={"exact": i in (0, 3), "score": i}
        )

    failed = await api.create_run(
        "qa",
        test_case_filter={
            "failed_in": {"test_run_id": first["test_run_id"], "evaluation": "exact"}
        },
    )
    low = await api.create_run(
        "qa",
        test_case_filter={
            "failed_in": {"test_run_id": first["test_run_id"], "evaluation": "score", "below": 2}
        },
    )

    assert [c["values"]["n"] for c in failed.json()["test_cases"]] == [1, 2, 4]
    assert [c["values"]["n"] for c in low.json()["test_cases"]] == [0, 1]
    rerun = failed.json()["test_run_id"]
    outside = first["test_cases"][0]["id"]
    body = await record(api, rerun, outside, output="x")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_bad_filters_are_422(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(2)])
    await api.dataset_with_cases("other", [completion_example(1)])
    other_run = (await api.create_run("other")).json()["test_run_id"]

    for bad in (
        {"test_case_ids": [str(uuid.uuid4())]},
        {"test_case_ids": ["not-a-uuid"]},
        {"metadata": {"tag": "none-such"}},
        {"metadata": {}},
        {"failed_in": {"test_run_id": other_run, "evaluation": "x"}},
        {"failed_in": {"test_run_id": str(uuid.uuid4()), "evaluation": "x"}},
    ):
        assert_problem(await api.create_run("qa", test_case_filter=bad), 422, "invalid_input")
    listed = (await api.get("/test-runs")).json()
    assert listed["total"] == 1


async def test_results_download_as_jsonl_and_csv(api: Api) -> None:
    await api.dataset_with_cases("qa", [completion_example(i) for i in range(3)])
    run = (await api.create_run("qa")).json()
    cases = [c["id"] for c in run["test_cases"]]
    await record(
        api, run["test_run_id"], cases[0], output="zero", evalResults={"exact": True, "score": 0.5}
    )
    await record(api, run["test_run_id"], cases[2], output={"a": 1}, evalResults={"exact": False})

    jsonl = await api.get(f"/test-runs/id/{run['test_run_id']}/results")
    table = await api.get(f"/test-runs/id/{run['test_run_id']}/results", params={"format": "csv"})

    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    rows = [orjson.loads(line) for line in jsonl.content.splitlines()]
    assert [(r["test_case_id"], r["output"]) for r in rows] == [
        (cases[0], "zero"),
        (cases[1], None),
        (cases[2], {"a": 1}),
    ]
    assert rows[0]["inputs"] == completion_example(0)["inputs"]
    assert rows[0]["expected_output"] == completion_example(0)["output"]
    assert rows[0]["scores"] == {"client": {"exact": True, "score": 0.5}}
    assert rows[1]["repetition"] is None
    assert table.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(table.text)))
    assert list(parsed[0]) == [
        "test_case_id",
        "repetition",
        "inputs",
        "expected_output",
        "output",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "client.exact",
        "client.score",
    ]
    assert (parsed[0]["output"], parsed[0]["client.exact"], parsed[0]["client.score"]) == (
        "zero",
        "true",
        "0.5",
    )
    assert orjson.loads(parsed[0]["inputs"]) == completion_example(0)["inputs"]
    assert (parsed[2]["output"], parsed[2]["client.exact"]) == ('{"a":1}', "false")


async def test_evaluations_and_flavors_are_managed(api: Api) -> None:
    created = await create_evaluation(api, "tone", "category", categories=["warm"], description="d")
    flavor = await api.post(
        "/flavors", {"name": "fast", "settings": {"model": "m", "temperature": 0}}
    )

    renamed = await api.client.patch(
        api.url(f"/evaluations/{created['id']}"),
        json={"name": "mood", "categories": ["warm", "cold"]},
        headers=api.headers,
    )
    listed = (await api.get("/evaluations")).json()["evaluations"]
    flavors = (await api.get("/flavors")).json()["flavors"]

    assert renamed.json()["categories"] == ["warm", "cold"]
    assert [e["name"] for e in listed] == ["mood"]
    assert flavor.status_code == 201
    assert flavors[0]["settings"] == {"model": "m", "temperature": 0}
    assert_problem(
        await api.post("/evaluations", {"name": "mood", "kind": "boolean"}), 409, "conflict"
    )
    assert_problem(
        await api.post("/evaluations", {"name": "x", "kind": "category"}), 422, "invalid_input"
    )
    assert_problem(
        await api.post("/evaluations", {"name": "x", "kind": "sometimes"}), 422, "invalid_input"
    )
    assert_problem(await api.post("/flavors", {"name": "fast", "settings": {}}), 409, "conflict")

    await api.dataset_with_cases("qa", [completion_example(1)])
    await api.create_run("qa", flavor_name="fast", target_evaluation_ids=[created["id"]])
    in_use = await api.client.delete(api.url(f"/evaluations/{created['id']}"), headers=api.headers)
    flavor_in_use = await api.client.delete(
        api.url(f"/flavors/{flavor.json()['id']}"), headers=api.headers
    )
    assert_problem(in_use, 409, "conflict")
    assert_problem(flavor_in_use, 409, "conflict")
    unused = await create_evaluation(api, "unused", "boolean")
    assert (
        await api.client.delete(api.url(f"/evaluations/{unused['id']}"), headers=api.headers)
    ).status_code == 204
