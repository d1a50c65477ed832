"""Liveness and readiness, and a database that is away when the app starts."""

import httpx
import pytest
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import Settings
from tests.support import TcpProxy, asgi_client, assert_problem


async def test_healthz_and_readyz_answer_without_a_key(client: httpx.AsyncClient) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_app_starts_before_its_database_and_recovers_without_restart(
    database_url: str, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a networked database is needed to be away at start")
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxy.disable()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(Settings(database_url=proxied, data_dir=tmp_path))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as client,
        ):
            assert (await client.get("/healthz")).status_code == 200
            away = await client.get("/readyz")
            body = assert_problem(away, 503, "service_unavailable")
            assert away.headers["retry-after"] == "1"
            assert "database" in body["detail"]

            proxy.enable()
            assert (await client.get("/readyz")).status_code == 200

            proxy.disable()
            assert (await client.get("/readyz")).status_code == 503
            proxy.enable()
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await app.state.db.dispose()
        await proxy.close()


async def test_unreachable_sqlite_file_is_503_not_500(tmp_path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app = create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{blocker}/x.db", data_dir=tmp_path)
    )
    async with asgi_client(app) as client:
        response = await client.get("/readyz")

    assert_problem(response, 503, "service_unavailable")


@pytest.mark.parametrize("pre_ping", [False, True])
async def test_a_connection_cut_while_idle_fails_at_most_the_request_that_finds_it(
    database_url: str, tmp_path, pre_ping: bool
) -> None:  # type: ignore[no-untyped-def]
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a networked database is needed to cut its connections")
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(database_url=proxied, data_dir=tmp_path, db_pool_pre_ping=pre_ping)
    try:
        async with asgi_client(create_app(settings)) as client:
            assert (await client.get("/readyz")).status_code == 200  # a connection is pooled
            proxy.disable()  # cut it, as a restarted database or a proxy's idle timeout does
            proxy.enable()

            first, second = await client.get("/readyz"), await client.get("/readyz")

            assert first.status_code == (200 if pre_ping else 503)
            assert second.status_code == 200
    finally:
        await proxy.close()
