"""Liveness and readiness, for load balancers and orchestrators (no key needed)."""

from fastapi import APIRouter, Depends

from app.api.auth import database
from app.db.engine import Database

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers",
    responses={503: {"description": "The database does not answer (problem+json)."}},
)
async def readyz(db: Database = Depends(database)) -> dict[str, str]:
    await db.ping()
    return {"status": "ready"}
