"""Mutations: each is one call into the domain."""

import strawberry

from app.api.graphql.context import Info
from app.api.graphql.inputs import (
    AddTestCasesInput,
    CreateDatasetInput,
    CreateEvaluationInput,
    CreateFlavorInput,
    CreateTestRunInput,
)
from app.api.graphql.types.dataset import Dataset
from app.api.graphql.types.evaluation import Evaluation, Flavor
from app.api.graphql.types.test_run import TestRun
from app.domain import datasets, evaluations, test_runs
from app.domain.errors import InvalidInput


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
class CreateEvaluationPayload:
    evaluation: Evaluation


@strawberry.type
class CreateFlavorPayload:
    flavor: Flavor


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Snapshot a dataset as a new test run.")
    async def create_test_run(self, info: Info, input: CreateTestRunInput) -> CreateTestRunPayload:
        run = await test_runs.create_test_run(
            info.context.db, info.context.principal, input.project_id, input.to_domain()
        )
        return CreateTestRunPayload(test_run=TestRun.of(run))

    @strawberry.mutation
    async def create_dataset(self, info: Info, input: CreateDatasetInput) -> CreateDatasetPayload:
        dataset = await datasets.create_dataset(
            info.context.db, info.context.principal, input.project_id, input.to_domain()
        )
        return CreateDatasetPayload(dataset=Dataset.of(dataset))

    @strawberry.mutation(description="Add test cases to a dataset, all in one new version.")
    async def add_test_cases(self, info: Info, input: AddTestCasesInput) -> AddTestCasesPayload:
        ctx = info.context
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, input.dataset_id)
        wrong = (
            input.trace_cases
            if dataset.test_case_type is datasets.TestCaseType.COMPLETION
            else input.completion_cases
        )
        if wrong:
            kind = dataset.test_case_type.value
            raise InvalidInput(f"{dataset.name!r} is a {kind} dataset; send {kind}Cases only")
        added = await datasets.add_test_cases(
            ctx.db, ctx.principal, dataset.project_id, dataset.id, input.examples()
        )
        dataset = await datasets.find_dataset(ctx.db, ctx.principal, dataset.id)
        return AddTestCasesPayload(
            dataset=Dataset.of(dataset),
            version=added.version.number,
            test_case_ids=[strawberry.ID(i) for i in added.case_ids],
        )

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
