"""OpenTelemetry traces, installed only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

A span per request (FastAPI's instrumentation, named by route template) with a child span
per SQL statement (SQLAlchemy's), exported in batches over OTLP/HTTP (protobuf) to
``{endpoint}/v1/traces``. The standard ``OTEL_*`` variables still apply: ``OTEL_SERVICE_NAME``
(default ``testrun-gateway``), ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_BSP_*`` for batching. The app imports this module only when tracing is on.
"""

import os

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from app.db.engine import Database


def install(app: FastAPI, db: Database, endpoint: str) -> TracerProvider:
    """Trace the app's requests and the database's statements (the app's lifespan flushes
    ``app.state.tracer_provider`` when it stops)."""
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: "testrun-gateway"}
    provider = TracerProvider(resource=Resource.create(attributes))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses unchanged
    # (tests/e2e/test_tracing.py checks the statements' spans arrive).
    SQLAlchemyInstrumentor().instrument(
        engine=db.engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )
    app.state.tracer_provider = provider
    return provider
