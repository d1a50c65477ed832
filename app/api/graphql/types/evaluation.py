"""Evaluations and flavors."""

from datetime import datetime

import strawberry

from app.api.graphql.scalars import JSON
from app.api.graphql.types.node import Node
from app.domain import evaluations as domain

# strawberry.enum gives the domain's enum its GraphQL name; the alias is the same class.
EvaluationKind = domain.EvaluationKind
strawberry.enum(EvaluationKind, name="EvaluationKind")
EvaluationSource = domain.EvaluationSource
strawberry.enum(EvaluationSource, name="EvaluationSource")
Direction = domain.Direction
strawberry.enum(
    Direction, name="Direction", description="Which scores are better: higher or lower."
)


@strawberry.type
class Evaluation(Node):
    name: str
    description: str
    kind: EvaluationKind
    source: EvaluationSource
    categories: list[str]
    direction: Direction
    created_at: datetime

    @classmethod
    def of(cls, evaluation: domain.Evaluation) -> "Evaluation":
        return cls(
            id=strawberry.ID(evaluation.id),
            name=evaluation.name,
            description=evaluation.description,
            kind=evaluation.kind,
            source=evaluation.source,
            categories=evaluation.categories,
            direction=evaluation.direction,
            created_at=evaluation.created_at,
        )


@strawberry.type(description="Named model/provider settings a test run can be made with.")
class Flavor(Node):
    name: str
    settings: JSON
    created_at: datetime

    @classmethod
    def of(cls, flavor: domain.Flavor) -> "Flavor":
        return cls(
            id=strawberry.ID(flavor.id),
            name=flavor.name,
            settings=JSON(flavor.settings),
            created_at=flavor.created_at,
        )
