"""The Relay ``Node`` interface: every object a client may refetch by id alone."""

import strawberry


@strawberry.interface(
    description="An object that `node(id:)` finds again by its id. Ids are the uuids REST "
    "uses; a test case's content at a version has a revision id of its own (its `id`), while "
    "`testCaseId` stays the same across versions."
)
class Node:
    id: strawberry.ID
