"""SIGTERM: `testruns serve` stops accepting connections, finishes the requests in flight
(for up to TESTRUNS_SHUTDOWN_TIMEOUT_SECONDS) and exits. Under write load nothing it
acknowledged is lost, nothing fails with a 5xx and nothing is half-applied."""

import json
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from tests.e2e.load import DATASET, Target, Writers, check_database, prepare
from tests.e2e.processes import serving


def start_held_request(url: str, target: Target) -> tuple[socket.socket, bytes]:
    """A run creation the server has begun (it asked for the body with 100 Continue) whose
    body is not sent yet. Returns the socket and the body to send."""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps({"dataset_name": DATASET}).encode()
    sock = socket.create_connection((host, int(port)), timeout=60)
    sock.sendall(
        (
            f"POST /api/v2/projects/{target.project_id}/test-runs HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {target.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n"
        ).encode()
    )
    assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
    return sock, body


def read_response(sock: socket.socket) -> tuple[int, str, bytes]:
    """Status, headers and body of the answer, read until the server closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1").lower(), body


def refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_sigterm_under_load_finishes_in_flight_requests_and_loses_nothing(
    sqlite_template: Path, tmp_path: Path
) -> None:
    database = tmp_path / "testruns.db"
    shutil.copy(sqlite_template, database)
    env = {"TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    with serving({**env, "TESTRUNS_SHUTDOWN_TIMEOUT_SECONDS": "60"}, tmp_path) as (server, url):
        target = prepare(env["TESTRUNS_DATABASE_URL"], url)
        with Writers(url, target) as writers:
            writers.wait_for(60)
            held, body = start_held_request(url, target)
            server.send_signal(signal.SIGTERM)
            for _ in range(600):  # it stops accepting while the held request is open
                if refuses_connections(url):
                    break
                writers.stopping.wait(0.05)
            else:
                raise AssertionError("the server still accepts connections")
            assert server.poll() is None
            held.sendall(body)
            status, headers, answer = read_response(held)
            held.close()
            assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        assert status == 201, answer
        assert "connection: close" in headers
        acknowledged = writers.snapshot()
        acknowledged.runs.add(json.loads(answer)["test_run_id"])
        # Connection errors are fine for requests the server never took; 5xx are not.
        assert writers.seen.failures == []
        print(f"{writers.seen.requests} answered, {writers.seen.unanswered} not taken")

    restarted = tmp_path / "restarted"
    restarted.mkdir()
    with serving(env, restarted) as (_, url):
        check_database(url, target, acknowledged)


def test_shutdown_waits_no_longer_than_its_timeout(sqlite_template: Path, tmp_path: Path) -> None:
    database = tmp_path / "testruns.db"
    shutil.copy(sqlite_template, database)
    env = {
        "TESTRUNS_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "TESTRUNS_SHUTDOWN_TIMEOUT_SECONDS": "0.5",
    }
    with serving(env, tmp_path) as (server, url):
        target = prepare(env["TESTRUNS_DATABASE_URL"], url)
        held, _ = start_held_request(url, target)  # a client that never sends its body
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=60) in (0, -signal.SIGTERM)
        except subprocess.TimeoutExpired:
            raise AssertionError("the server waited for the request beyond its timeout") from None
        finally:
            held.close()
