"""OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, `testruns serve` sends a span per
request, with its SQL statements as child spans, to an OTLP/HTTP receiver; unset, nothing of
the instrumentation is loaded."""

import gzip
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.e2e.processes import serving


class Receiver(ThreadingHTTPServer):
    """A minimal OTLP/HTTP collector: keeps every span POSTed to /v1/traces."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[tuple[dict[str, str], Span]] = []  # (resource attributes, span)
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.paths.append(self.path)
        assert self.headers["Content-Type"] == "application/x-protobuf"
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.server.spans.extend((resource, span) for span in scope_spans.spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()


def attributes(span: Span) -> dict[str, object]:
    return {
        a.key: a.value.string_value or a.value.int_value or a.value.bool_value
        for a in span.attributes
    }


def test_requests_and_their_sql_reach_an_otlp_receiver(
    receiver: Receiver, sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "testruns.db"
    shutil.copy(sqlite_template, database)
    env = {
        "TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
    }
    with serving(env, tmp_path) as (server, url):
        response = httpx.get(f"{url}/readyz", headers={"X-Request-ID": "traced-1"})
        assert response.status_code == 200
        server.terminate()  # stopping flushes the spans still buffered
        assert server.wait(timeout=60) in (0, -signal.SIGTERM)

    assert set(receiver.paths) == {"/v1/traces"}
    requests = [
        span
        for resource, span in receiver.spans
        if span.kind == Span.SPAN_KIND_SERVER and attributes(span).get("http.route") == "/readyz"
    ]
    assert requests, "no span for GET /readyz"
    assert all(resource["service.name"] == "testrun-gateway" for resource, _ in receiver.spans)
    traced = {span.trace_id for span in requests}
    statements = [
        span
        for _, span in receiver.spans
        if span.trace_id in traced and attributes(span).get("db.system") == "sqlite"
    ]
    assert any("SELECT 1" in str(attributes(span).get("db.statement")) for span in statements)


def test_without_an_endpoint_no_instrumentation_is_loaded(tmp_path: Path) -> None:
    probe = """
import sys
from app.main import create_app
from app.settings import Settings
app = create_app(Settings(database_url="sqlite+aiosqlite:///%s"))
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.instrumentation", "opentelemetry.exporter")))
print(loaded, [m.cls.__name__ for m in app.user_middleware])
""" % (tmp_path / "testruns.db")
    env_less = {k: v for k, v in __import__("os").environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env_less, check=True
    )
    assert result.stdout.strip() == "[] ['RequestContextMiddleware', 'DirectRoutes']"
