"""The application: REST routers and the GraphQL router over one domain."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.middleware.cors import CORSMiddleware

from app import metrics
from app.api import errors, web
from app.api.direct_routes import DirectRoutes
from app.api.graphql.schema import graphql_router
from app.api.middleware import RequestContextMiddleware
from app.api.rest import (
    criteria,
    dataset_cases,
    datasets,
    evaluations,
    health,
    model_catalog,
    openapi,
    projects,
    prompt_templates,
    recordings,
    test_cases,
    test_runs,
)
from app.db.engine import Database
from app.runner.worker import embedded_worker
from app.settings import Settings
from app.tuning import tune_for_serving

_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    db = Database(settings)
    if settings.metrics:
        metrics.enable()
        metrics.watch_pool(db.engine)

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        tune_for_serving()
        async with embedded_worker(db):
            yield
        await db.dispose()
        metrics.unwatch_pool(db.engine)
        metrics.process_exiting()
        tracing = getattr(application.state, "tracer_provider", None)
        if tracing is not None:
            tracing.shutdown()  # exports the spans still buffered

    app = FastAPI(
        title="testrun-gateway",
        summary="LLM evaluation test runs: Freeplay-compatible REST and a GraphQL API.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by app.api.web from the app's own files
        redoc_url=None,
        # Without OTEL_EXPORTER_OTLP_ENDPOINT there are no traces: FastAPI's own telemetry is
        # off instead of looking for OpenTelemetry providers on every request.
        telemetry=None if settings.otel_exporter_otlp_endpoint else _NO_TELEMETRY,
    )
    app.state.settings = settings
    app.state.db = db
    errors.install(app)
    app.include_router(health.router)
    # Routes are matched in the order included, one by one: the most used go first. (GraphQL's
    # one path overlaps no other.)
    graphql = graphql_router(settings, ide_page=web.graphiql_page)
    app.include_router(graphql)
    app.include_router(test_runs.router)
    app.include_router(projects.router)
    app.include_router(datasets.router)
    app.include_router(test_cases.router)
    app.include_router(dataset_cases.router)
    app.include_router(recordings.router)
    app.include_router(evaluations.router)
    app.include_router(prompt_templates.router)
    app.include_router(model_catalog.router)
    app.include_router(criteria.router)
    web.install(app)
    openapi.install(app)
    if settings.metrics:
        from app.api.metrics import router as metrics_router

        app.include_router(metrics_router)
    if settings.otel_exporter_otlp_endpoint:
        from app import telemetry  # OpenTelemetry is imported only when traces are wanted

        telemetry.install(app, db, settings.otel_exporter_otlp_endpoint)
    if settings.fast_routes and not settings.otel_exporter_otlp_endpoint:
        # Inside the request middleware; not with traces, whose spans FastAPI makes per route.
        app.add_middleware(DirectRoutes, graphql=graphql)
    app.add_middleware(RequestContextMiddleware, settings=settings)
    if settings.cors_origins:
        # Added last, so outermost: a preflight is answered before anything asks for a key,
        # and every answer, the request middleware's own 413s and 500s too, carries the grant.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    return app
