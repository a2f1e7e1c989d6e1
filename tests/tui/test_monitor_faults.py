"""Faults: the monitor stays up, keeps the last data marked stale, says it is offline with the
retry delay, and recovers by itself. The service outage uses the REAL local service; faults a
real server cannot produce on demand (malformed JSON, unknown status, 5xx, a stall) go through
an httpx MockTransport, which is the only reason it is used here."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import httpx
import pytest

from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.tui.app import make_app
from nextmv_tui.tui.settings import Settings
from nextmv_tui.tui.widgets.status_bar import render_header
from tests.tui.conftest import wait_until
from tests.tui.helpers import app_for, client_for, routing_request, table_cell

SIZE = (160, 45)


def header(app) -> str:
    return render_header(app.main.header_info).plain


async def test_service_stopped_then_restarted_app_survives_and_recovers(make_local_service):
    service = make_local_service(concurrency=0)
    async with client_for(service) as client:
        run_id = await client.create_run("routing", routing_request(2, name="survivor"))
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.main.table.has_run(run_id), 15)
        assert app.queue.connection == "online"
        await asyncio.to_thread(service.stop)
        await wait_until(pilot, lambda: app.queue.connection == "offline", 15,
                         message="the header to say offline")
        assert "offline since" in header(app) and "— retrying in" in header(app)
        assert app.main.table.has_run(run_id), "last data is kept"
        await wait_until(pilot, lambda: app.main.table.has_class("-stale"), 5)
        assert app.queue.is_stale()
        await wait_until(pilot, lambda: app.queue.failures >= 2, 15, message="repeated retries")
        await asyncio.to_thread(service.start)
        await wait_until(pilot, lambda: app.queue.connection == "online", 40,
                         message="recovery after the restart")
        assert not app.main.table.has_class("-stale")
        assert "online" in header(app) and app.queue.failures == 0
        assert app.main.table.has_run(run_id)


async def test_service_killed_mid_session(make_local_service):
    service = make_local_service()
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "online", 15)
        await asyncio.to_thread(service.kill)
        await wait_until(pilot, lambda: app.queue.connection == "offline", 15)
        assert app.is_running


async def test_service_down_at_start_then_appears(make_local_service):
    service = make_local_service(start=False)
    app = app_for(service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "offline", 15)
        assert "no data yet" in header(app)
        await asyncio.to_thread(service.start)
        await wait_until(pilot, lambda: app.queue.connection == "online", 40)


async def test_wrong_api_key_says_what_to_fix(inprocess_service):
    config = ClientConfig(endpoint=inprocess_service.endpoint, api_key="wrong-key",
                          profile="staging", source="NEXTMV_API_KEY")
    app = make_app(Settings(config=config, refresh=0.5, transport=inprocess_service.transport))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "auth", 15)
        assert "not authorized" in header(app)
        # the fix is shown in full on its own line (and in a toast), whatever the width
        problem = str(app.main.problem_line.render())
        assert app.main.problem_line.display
        assert "NEXTMV_API_KEY" in problem and "--api-key" in problem
        assert "wrong-key" not in problem + header(app), "never show the key"


@pytest.mark.slow
async def test_untrusted_tls_certificate_says_what_to_fix(make_local_service):
    service = make_local_service(tls=True)
    config = ClientConfig(endpoint=service.endpoint, api_key=service.api_key, profile="local")
    app = make_app(Settings(config=config, refresh=0.5))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "tls", 15)
        assert "TLS certificate not trusted" in header(app)
        assert "REQUESTS_CA_BUNDLE" in app.main.problem
    trusted = ClientConfig(endpoint=service.endpoint, api_key=service.api_key,
                           profile="local", verify=str(service.cert))
    app = make_app(Settings(config=trusted, refresh=0.5))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "online", 15)


class ScriptedApi:
    """A queue endpoint that answers from a script of faults, then serves good data."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.calls = 0

    def good(self, status: str = "running") -> httpx.Response:
        created = datetime(2026, 1, 1, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
        body = {"runs": [{
            "id": "run-1", "user_email": "", "name": "n", "description": "",
            "created_at": created, "application_id": "knapsack",
            "application_instance_id": "", "application_version_id": "",
            "execution_class": "", "status_v2": status,
        }]}
        return httpx.Response(200, json=body)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/account/queue"):
            return httpx.Response(404, json={"error": "not here"})
        self.calls += 1
        step = self.script.pop(0) if self.script else "good"
        if step == "malformed":
            return httpx.Response(200, content=b'{"runs": [{"id": ')
        if step == "missing-field":
            return httpx.Response(200, json={"runs": [{"name": "no id"}]})
        if step == "503":
            return httpx.Response(503, json={"error": "maintenance"})
        if step == "500":
            return httpx.Response(500, content=b"<html>oops</html>")
        if step == "429":
            return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "0"})
        if step == "reset":
            raise httpx.ReadError("connection reset by peer", request=request)
        if step == "stall":
            await asyncio.sleep(60)  # never answers: the app's own deadline must fire
        if step == "unknown-status":
            return self.good("teleporting")
        return self.good()


@pytest.mark.slow
async def test_malformed_5xx_reset_stall_and_unknown_status_never_crash():
    api = ScriptedApi(["good", "malformed", "missing-field", "503", "500", "reset",
                       "stall", "unknown-status", "good"])
    config = ClientConfig(endpoint="http://fake.invalid", api_key="k", profile="fake")
    settings = Settings(config=config, refresh=0.5, transport=httpx.MockTransport(api),
                        request_timeout=0.3, max_backoff=1.0)
    app = make_app(settings)
    app_states: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        def progressed() -> bool:
            app_states.append(app.queue.connection)
            return api.calls >= 9 and app.queue.connection == "online"

        await wait_until(pilot, progressed, 60, message="all faults then recovery")
        assert "error" in app_states, "5xx / malformed answers: server error, not offline"
        assert "offline" in app_states, "connection reset / stall: offline"
        assert app.main.table.has_run("run-1"), "data from before the faults is kept"
        assert app.is_running
        assert app.store.rows["run-1"].status_word in ("unknown", "running")


@pytest.mark.slow
async def test_429_is_rate_limited_not_a_server_error():
    api = ScriptedApi(["good"] + ["429"] * 12)
    config = ClientConfig(endpoint="http://fake.invalid", api_key="k", profile="fake")
    settings = Settings(config=config, refresh=0.5, transport=httpx.MockTransport(api),
                        request_timeout=0.3, max_backoff=1.0)
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "limited", 30, message="a 429")
        assert "rate limited" in header(app)
        assert "server error" not in header(app)
        await wait_until(pilot, lambda: app.queue.connection == "online", 60, message="recovery")


@pytest.mark.slow
async def test_offline_header_counts_down(local_service):
    app = app_for(local_service)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.queue.connection == "online", 15)
        await asyncio.to_thread(local_service.stop)
        await wait_until(pilot, lambda: app.queue.failures >= 4, 30)
        failures = app.queue.failures
        first = app.main.header_info.retry_in or 0.0
        assert first > 1

        def ticked() -> bool:
            now = app.main.header_info.retry_in
            return app.queue.failures == failures and now is not None and now < first - 0.5

        await wait_until(pilot, ticked, 5, message="the retry countdown to tick")
        assert f"retrying in {round(app.main.header_info.retry_in or 0)}s" in header(app)


@pytest.mark.slow
async def test_after_the_service_dies_counters_stop_and_rows_say_they_are_not_fresh(
    make_local_service,
):
    """Issue 8 §4 with the REAL service process killed: the running row stops counting and is
    marked, the header says since when the data is old, and the detail pane freezes its
    "running for" and reports the error on its status line, never inside its grid."""
    from tests.tui.test_monitor_detail import info_text

    service = make_local_service()
    async with client_for(service) as client:
        run_id = await client.create_run("routing", routing_request(60, name="dies"))
    app = app_for(service, max_backoff=1.0)
    async with app.run_test(size=SIZE) as pilot:
        table, detail = app.main.table, app.main.detail
        await wait_until(pilot, lambda: app.store.get(run_id) is not None
                         and app.store.rows[run_id].status_word == "running", 20)
        app.main.select_run(run_id)
        await wait_until(pilot, lambda: detail.info is not None
                         and detail.info.status.value == "running", 10)
        await asyncio.to_thread(service.kill)
        await wait_until(pilot, lambda: app.queue.connection == "offline", 15)
        await wait_until(pilot, lambda: "running?" in table_cell(app, run_id, "status"), 5,
                         message="the row is marked as not fresh")
        assert table.get_cell(run_id, "name").style == table._dim
        text = header(app)
        assert "offline since" in text and "STALE" in text and "rows as of" in text
        await wait_until(pilot, lambda: detail.frozen and detail.status_text(), 15,
                         message="the pane's status line reports the failure")
        in_state, shown = table_cell(app, run_id, "in_state"), info_text(app)
        age = app.queue.data_age() or 0.0
        await wait_until(pilot, lambda: (app.queue.data_age() or 0) > age + 2.5, 10)
        app.main._tick()
        assert table_cell(app, run_id, "in_state") == in_state, "the row stopped counting"
        assert info_text(app) == shown, "'running for' stopped counting"
        assert "as of" in shown
        assert "connect" not in shown.lower(), "no error inside the metadata grid"
        assert "connect" in detail.status_text().lower() or "✘" in detail.status_text()
        await asyncio.to_thread(service.start)
        await wait_until(pilot, lambda: app.queue.connection == "online", 40)
        await wait_until(pilot, lambda: "?" not in table_cell(app, run_id, "status"), 10)
