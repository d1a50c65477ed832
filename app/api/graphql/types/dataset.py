"""Datasets and their test cases."""

from datetime import datetime

import strawberry

from app.api.graphql import fields
from app.api.graphql.context import Info
from app.api.graphql.pagination import (
    Connection,
    connection,
    decode_int_cursor,
    encode_cursor,
    window,
)
from app.api.graphql.types.node import Node
from app.api.graphql.types.test_case import TestCaseConnection, case_node
from app.domain import datasets as domain
from app.domain.pagination import Page

# strawberry.enum gives the domain's enum its GraphQL name; the alias is the same class.
TestCaseType = domain.TestCaseType
strawberry.enum(TestCaseType, name="TestCaseType")

CASE_CURSOR = "case"


def case_connection(
    dataset_id: str,
    page: Page[domain.StoredTestCase],
    kind: domain.TestCaseType,
    include_outputs: bool,
) -> TestCaseConnection:
    return connection(
        page,
        lambda case: encode_cursor(CASE_CURSOR, str(case.position)),
        lambda case: case_node(dataset_id, case, kind, include_outputs),
    )


VERSION_CURSOR = "version"


@strawberry.type(description="One version of a dataset and what changed to make it.")
class DatasetVersion:
    number: int
    created_at: datetime
    added: int
    edited: int
    deleted: int
    test_case_count: int

    @classmethod
    def of(cls, version: domain.DatasetVersion) -> "DatasetVersion":
        return cls(
            number=version.number,
            created_at=version.created_at,
            added=version.added,
            edited=version.edited,
            deleted=version.deleted,
            test_case_count=version.case_count,
        )


@strawberry.type
class Dataset(Node):
    name: str
    description: str
    test_case_type: TestCaseType
    version: int = strawberry.field(description="The latest version; every change adds one.")
    test_case_count: int = strawberry.field(description="Cases in the latest version.")
    input_names: list[str]
    media_input_names: list[str]
    support_history: bool
    compatible_agent_ids: list[str]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(
        description="Set when the dataset was deleted while test runs still use it."
    )
    _dataset: strawberry.Private[domain.Dataset]

    @classmethod
    def of(cls, dataset: domain.Dataset) -> "Dataset":
        return cls(
            id=strawberry.ID(dataset.id),
            name=dataset.name,
            description=dataset.description,
            test_case_type=dataset.test_case_type,
            version=dataset.version,
            test_case_count=dataset.case_count,
            input_names=dataset.input_names,
            media_input_names=dataset.media_input_names,
            support_history=dataset.support_history,
            compatible_agent_ids=dataset.compatible_agent_ids,
            created_at=dataset.created_at,
            updated_at=dataset.updated_at,
            deleted_at=dataset.deleted_at,
            _dataset=dataset,
        )

    @fields.field(description="The test cases of the latest version, or of atVersion.")
    async def test_cases(
        self,
        info: Info,
        at_version: int | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> TestCaseConnection:
        page = await domain.case_page(
            info.context.db,
            self._dataset,
            version=at_version,
            window=window(
                info.context.settings,
                first,
                decode_int_cursor(after, CASE_CURSOR),
                last,
                decode_int_cursor(before, CASE_CURSOR, "before"),
            ),
        )
        return case_connection(
            self._dataset.id, page, self._dataset.test_case_type, include_outputs=True
        )

    @fields.field(description="Every version, newest first.")
    async def versions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[DatasetVersion]:
        page = await domain.list_versions(
            info.context.db,
            self._dataset,
            window=window(
                info.context.settings,
                first,
                decode_int_cursor(after, VERSION_CURSOR),
                last,
                decode_int_cursor(before, VERSION_CURSOR, "before"),
            ),
        )
        return connection(
            page, lambda v: encode_cursor(VERSION_CURSOR, str(v.number)), DatasetVersion.of
        )


DatasetConnection = Connection[Dataset]
