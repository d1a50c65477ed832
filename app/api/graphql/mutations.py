"""Mutations: each is one call into the domain."""

from contextlib import AbstractContextManager

import strawberry

from app.api.graphql import fields
from app.api.graphql.catalog_mutations import CatalogMutation
from app.api.graphql.context import Info
from app.api.graphql.errors import Loc, relocated
from app.api.graphql.inputs import (
    AddTestCasesInput,
    BulkAddTestCasesInput,
    BulkDeleteTestCasesInput,
    CancelTestRunInput,
    CompleteTestRunInput,
    CreateDatasetInput,
    CreateEvaluationInput,
    CreateFlavorInput,
    CreateTestRunInput,
    DeleteDatasetInput,
    DeleteEvaluationInput,
    DeleteFlavorInput,
    DeleteTestCasesInput,
    RecordTestCaseResultInput,
    ScoreTestCaseResultInput,
    UpdateDatasetInput,
    UpdateEvaluationInput,
    UpdateFlavorInput,
    UpdateProjectInput,
    UpdateTestCaseInput,
)
from app.api.graphql.types.dataset import Dataset
from app.api.graphql.types.evaluation import Evaluation, Flavor
from app.api.graphql.types.project import Project
from app.api.graphql.types.result import TestCaseResult
from app.api.graphql.types.test_case import TestCase, case_node
from app.api.graphql.types.test_run import TestRun
from app.domain import (
    datasets,
    evaluations,
    execution,
    projects,
    result_recording,
    results,
    test_cases,
    test_runs,
)


@strawberry.type
class CreateTestRunPayload:
    test_run: TestRun


@strawberry.type
class CreateDatasetPayload:
    dataset: Dataset


@strawberry.type
class AddTestCasesPayload:
    dataset: Dataset
    version: int = strawberry.field(description="The dataset version the cases were added in.")
    test_case_ids: list[strawberry.ID]


@strawberry.type
class UpdateDatasetPayload:
    dataset: Dataset


@strawberry.type
class DeleteDatasetPayload:
    deleted_dataset_id: strawberry.ID


@strawberry.type
class UpdateTestCasePayload:
    dataset: Dataset
    version: int = strawberry.field(description="The dataset version the change made.")
    test_case: TestCase


@strawberry.type
class DeleteTestCasesPayload:
    dataset: Dataset
    version: int = strawberry.field(description="The dataset version the change made.")


@strawberry.type
class RecordTestCaseResultPayload:
    result: TestCaseResult
    test_run: TestRun


@strawberry.type
class ScoreTestCaseResultPayload:
    result: TestCaseResult
    test_run: TestRun


@strawberry.type
class CompleteTestRunPayload:
    test_run: TestRun


@strawberry.type
class CancelTestRunPayload:
    test_run: TestRun


@strawberry.type
class DeleteEvaluationPayload:
    deleted_evaluation_id: strawberry.ID


@strawberry.type
class DeleteFlavorPayload:
    deleted_flavor_id: strawberry.ID


@strawberry.type
class CreateEvaluationPayload:
    evaluation: Evaluation


@strawberry.type
class UpdateEvaluationPayload:
    evaluation: Evaluation


@strawberry.type
class CreateFlavorPayload:
    flavor: Flavor


@strawberry.type
class UpdateFlavorPayload:
    flavor: Flavor


@strawberry.type
class BulkAddTestCasesPayload:
    dataset: Dataset
    test_cases: list[TestCase] = strawberry.field(description="The cases made, in order.")


@strawberry.type
class BulkDeleteTestCasesPayload:
    dataset: Dataset
    version: int = strawberry.field(description="The dataset version the change made.")


@strawberry.type
class UpdateProjectPayload:
    project: Project


@strawberry.type
class Mutation(CatalogMutation):
    @fields.mutation(description="Snapshot a dataset as a new test run.")
    async def create_test_run(self, info: Info, input: CreateTestRunInput) -> CreateTestRunPayload:
        run = await test_runs.create_test_run(
            info.context.db,
            info.context.principal,
            input.project_id,
            input.to_domain(),
            input.idempotency_key,
        )
        return CreateTestRunPayload(test_run=TestRun.of(run))

    @strawberry.mutation
    async def create_dataset(self, info: Info, input: CreateDatasetInput) -> CreateDatasetPayload:
        dataset = await datasets.create_dataset(
            info.context.db, info.context.principal, input.project_id, input.to_domain()
        )
        return CreateDatasetPayload(dataset=Dataset.of(dataset))

    @fields.mutation(description="Add test cases to a dataset, all in one new version.")
    async def add_test_cases(self, info: Info, input: AddTestCasesInput) -> AddTestCasesPayload:
        ctx = info.context.writing()
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        with _cases_located(dataset, "examples"):
            added = await test_cases.add_test_cases(
                ctx.db,
                ctx.principal,
                dataset.project_id,
                dataset.id,
                input.examples(),
                case_kinds=input.case_kinds(),
            )
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, dataset.id)
        return AddTestCasesPayload(
            dataset=Dataset.of(dataset),
            version=added.version.number,
            test_case_ids=[strawberry.ID(i) for i in added.case_ids],
        )

    @fields.mutation(description="Rename or re-describe a dataset (no new version).")
    async def update_dataset(self, info: Info, input: UpdateDatasetInput) -> UpdateDatasetPayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        dataset = await datasets.update_dataset(
            ctx.db, ctx.principal, found.project_id, found.id, input.to_domain()
        )
        return UpdateDatasetPayload(dataset=Dataset.of(dataset))

    @fields.mutation(
        description="Delete a dataset; CONFLICT if test runs use it, unless force is true."
    )
    async def delete_dataset(self, info: Info, input: DeleteDatasetInput) -> DeleteDatasetPayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        await datasets.delete_dataset(
            ctx.db, ctx.principal, found.project_id, found.id, force=input.force
        )
        return DeleteDatasetPayload(deleted_dataset_id=strawberry.ID(found.id))

    @fields.mutation(description="Change one test case, as a new dataset version.")
    async def update_test_case(
        self, info: Info, input: UpdateTestCaseInput
    ) -> UpdateTestCasePayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        kind = found.test_case_type
        patch = input.completion if kind is datasets.TestCaseType.COMPLETION else input.trace
        with relocated(lambda loc: (kind.value, *loc)):
            edited = await test_cases.update_test_case(
                ctx.db,
                ctx.principal,
                found.project_id,
                found.id,
                input.test_case_id,
                patch.changes() if patch is not None else {},
                case_kinds=input.case_kinds(),
            )
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, found.id)
        # The new revision, read as GraphQL reads cases (with what names the revision).
        case = await ctx.cases.load((dataset.id, edited.version.number, edited.case.id))
        assert case is not None  # just written
        return UpdateTestCasePayload(
            dataset=Dataset.of(dataset),
            version=edited.version.number,
            test_case=case_node(dataset.id, case, kind, include_outputs=True),
        )

    @fields.mutation(description="Remove test cases, as one new dataset version.")
    async def delete_test_cases(
        self, info: Info, input: DeleteTestCasesInput
    ) -> DeleteTestCasesPayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        version = await test_cases.delete_test_cases(
            ctx.db, ctx.principal, found.project_id, found.id, list(input.test_case_ids)
        )
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, found.id)
        return DeleteTestCasesPayload(dataset=Dataset.of(dataset), version=version.number)

    @strawberry.mutation
    async def create_evaluation(
        self, info: Info, input: CreateEvaluationInput
    ) -> CreateEvaluationPayload:
        evaluation = await evaluations.create_evaluation(
            info.context.db, info.context.principal, input.project_id, input.to_domain()
        )
        return CreateEvaluationPayload(evaluation=Evaluation.of(evaluation))

    @strawberry.mutation
    async def create_flavor(self, info: Info, input: CreateFlavorInput) -> CreateFlavorPayload:
        flavor = await evaluations.create_flavor(
            info.context.db, info.context.principal, input.project_id, input.name, input.settings
        )
        return CreateFlavorPayload(flavor=Flavor.of(flavor))

    @fields.mutation(description="Record (or replace) the result of one case of a run.")
    async def record_test_case_result(
        self, info: Info, input: RecordTestCaseResultInput
    ) -> RecordTestCaseResultPayload:
        ctx = info.context.writing()
        given: list[str] = [s.evaluation_id for s in input.scores or ()]

        def score_at(loc: Loc) -> Loc:  # the domain names a score by its evaluation id
            if loc[:1] == ("scores",) and len(loc) > 1 and loc[1] in given:
                return ("scores", given.index(str(loc[1])), "value", *loc[2:])
            return loc

        with relocated(score_at):
            result = await result_recording.record_result(
                ctx.db, ctx.principal, input.test_run_id, input.to_domain()
            )
        recorded, run = await _result_and_run(info, result)
        return RecordTestCaseResultPayload(result=recorded, test_run=run)

    @fields.mutation(description="Add or replace an auto or human score of a result.")
    async def score_test_case_result(
        self, info: Info, input: ScoreTestCaseResultInput
    ) -> ScoreTestCaseResultPayload:
        ctx = info.context.writing()
        with relocated(lambda loc: ("value", *loc[2:]) if loc[:1] == ("scores",) else loc):
            result = await result_recording.score_result(
                ctx.db,
                ctx.principal,
                input.test_run_id,
                input.test_case_id,
                input.repetition,
                input.evaluation_id,
                input.value,
            )
        scored, run = await _result_and_run(info, result)
        return ScoreTestCaseResultPayload(result=scored, test_run=run)

    @fields.mutation(description="Mark a run completed, whether or not every case has a result.")
    async def complete_test_run(
        self, info: Info, input: CompleteTestRunInput
    ) -> CompleteTestRunPayload:
        ctx = info.context.writing()
        await result_recording.complete_run(ctx.db, ctx.principal, input.test_run_id)
        run = await test_runs.get_test_run(ctx.db, ctx.principal, input.test_run_id)
        return CompleteTestRunPayload(test_run=TestRun.of(run))

    @fields.mutation(
        description="Stop a run the server executes: cases not yet done are cancelled and "
        "the run is completed with the results it has."
    )
    async def cancel_test_run(self, info: Info, input: CancelTestRunInput) -> CancelTestRunPayload:
        ctx = info.context.writing()
        await execution.cancel_execution(ctx.db, ctx.principal, input.test_run_id)
        run = await test_runs.get_test_run(ctx.db, ctx.principal, input.test_run_id)
        return CancelTestRunPayload(test_run=TestRun.of(run))

    @strawberry.mutation
    async def update_evaluation(
        self, info: Info, input: UpdateEvaluationInput
    ) -> UpdateEvaluationPayload:
        ctx = info.context.writing()
        found = await evaluations.find_evaluation(ctx.db, ctx.principal, input.evaluation_id)
        updated = await evaluations.update_evaluation(
            ctx.db, ctx.principal, found.project_id, found.id, input.to_domain()
        )
        return UpdateEvaluationPayload(evaluation=Evaluation.of(updated))

    @fields.mutation(description="Delete an evaluation no run uses (CONFLICT otherwise).")
    async def delete_evaluation(
        self, info: Info, input: DeleteEvaluationInput
    ) -> DeleteEvaluationPayload:
        ctx = info.context.writing()
        found = await evaluations.find_evaluation(ctx.db, ctx.principal, input.evaluation_id)
        await evaluations.delete_evaluation(ctx.db, ctx.principal, found.project_id, found.id)
        return DeleteEvaluationPayload(deleted_evaluation_id=strawberry.ID(found.id))

    @strawberry.mutation
    async def update_flavor(self, info: Info, input: UpdateFlavorInput) -> UpdateFlavorPayload:
        ctx = info.context.writing()
        updated = await evaluations.update_flavor(
            ctx.db,
            ctx.principal,
            input.project_id,
            input.flavor_id,
            name=input.name,
            settings=input.settings,
        )
        return UpdateFlavorPayload(flavor=Flavor.of(updated))

    @fields.mutation(description="Delete a flavor no run was made with (CONFLICT otherwise).")
    async def delete_flavor(self, info: Info, input: DeleteFlavorInput) -> DeleteFlavorPayload:
        ctx = info.context.writing()
        await evaluations.delete_flavor(ctx.db, ctx.principal, input.project_id, input.flavor_id)
        return DeleteFlavorPayload(deleted_flavor_id=input.flavor_id)

    @fields.mutation(description="Add at most 100 test cases in one new version; the cases made.")
    async def bulk_add_test_cases(
        self, info: Info, input: BulkAddTestCasesInput
    ) -> BulkAddTestCasesPayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        kind = found.test_case_type
        with _cases_located(found, "data"):
            dataset, made = await test_cases.bulk_add_test_cases(
                ctx.db,
                ctx.principal,
                found.project_id,
                found.id,
                input.examples(),
                kind,
                case_kinds=input.case_kinds(),
            )
        return BulkAddTestCasesPayload(
            dataset=Dataset.of(dataset),
            test_cases=[case_node(dataset.id, case, kind, include_outputs=True) for case in made],
        )

    @fields.mutation(description="Delete at most 100 test cases, as one new version.")
    async def bulk_delete_test_cases(
        self, info: Info, input: BulkDeleteTestCasesInput
    ) -> BulkDeleteTestCasesPayload:
        ctx = info.context.writing()
        found = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        version = await test_cases.delete_test_cases(
            ctx.db,
            ctx.principal,
            found.project_id,
            found.id,
            list(input.test_case_ids),
            limit=test_cases.MAX_BULK,
        )
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, found.id)
        return BulkDeleteTestCasesPayload(dataset=Dataset.of(dataset), version=version.number)

    @fields.mutation(description="Rename a project or change its settings.")
    async def update_project(self, info: Info, input: UpdateProjectInput) -> UpdateProjectPayload:
        ctx = info.context.writing()
        project = await projects.update_project(
            ctx.db, ctx.principal, input.project_id, input.to_domain()
        )
        return UpdateProjectPayload(project=Project.of(project))


def _cases_located(dataset: datasets.Dataset, domain_field: str) -> AbstractContextManager[None]:
    """Errors the domain reports at ``(domain_field, i, ...)`` named by the input's list."""
    field = (
        "completion_cases"
        if dataset.test_case_type is datasets.TestCaseType.COMPLETION
        else "trace_cases"
    )
    return relocated(lambda loc: (field, *loc[1:]) if loc[:1] == (domain_field,) else loc)


async def _result_and_run(info: Info, result: results.Result) -> tuple[TestCaseResult, TestRun]:
    ctx = info.context
    run = await test_runs.get_test_run(ctx.db, ctx.principal, result.test_run_id)
    case = await ctx.cases.load((run.dataset_id, run.dataset_version, result.test_case_id))
    assert case is not None  # a result is only recorded for a case of its run
    return TestCaseResult.of(result, case, run), TestRun.of(run)
