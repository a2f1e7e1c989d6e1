"""Shared fixtures: the REAL local run service, in-process or as a subprocess.

``inprocess_service`` / ``make_inprocess_service(**serve_options)`` run ``create_app`` behind
``httpx.ASGITransport`` in the test's event loop (no port, no start-up wait): the default for
tests that do not test the process boundary. Their ``transport`` goes into the client's or the
monitor's ``Settings(transport=...)`` (``tests/tui/helpers.py`` does it).

``local_service`` starts ``nextmv-tui serve --port P --data-dir D --api-key K`` and waits until
the unauthenticated ``GET /healthz`` answers. The process is forked from a warm interpreter
that has imported the service (``tests/service_forks.py``: a start skips about 0.75 s of
imports); ``exec_=True`` or ``NEXTMV_TUI_TEST_EXEC=1`` execs it.
``make_local_service(**kwargs)`` starts more, with extra ``serve`` flags (``concurrency=1``,
``tls=True``, ``app=[dir]``...).
Each handle can ``stop()`` (SIGTERM, clean exit), ``kill()`` (SIGKILL, like a crash) and
``start()`` again on the same port and data dir.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service_forks import ForkedProcess, close_forker, fork_service, forks_enabled

REPO_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flags(options: dict[str, Any]) -> list[str]:
    """``concurrency=1, tls=True, app=[a, b]`` -> ``--concurrency 1 --tls --app a --app b``."""
    argv: list[str] = []
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


class LocalService:
    """Handle on one ``nextmv-tui serve`` subprocess."""

    def __init__(self, data_dir: Path, log_path: Path, **serve_kwargs: Any) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.api_key = str(serve_kwargs.pop("api_key", None) or "test-" + secrets.token_hex(16))
        self.port = int(serve_kwargs.pop("port", None) or free_port())
        self.tls = bool(serve_kwargs.get("tls", False))
        self.exec_ = bool(serve_kwargs.pop("exec_", False)) or not forks_enabled()
        self.serve_kwargs = serve_kwargs
        self.proc: subprocess.Popen[bytes] | ForkedProcess | None = None

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def cert(self) -> Path:
        """The self-signed certificate (``tls=True`` only)."""
        return self.data_dir / "tls" / "cert.pem"

    @property
    def verify(self) -> bool | ssl.SSLContext:
        """``verify=`` for httpx: trusts the service's self-signed cert when ``tls=True``."""
        if not self.tls:
            return True
        return ssl.create_default_context(cafile=str(self.cert))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", "nextmv_tui", "serve",
            "--port", str(self.port), "--data-dir", str(self.data_dir),
            "--api-key", self.api_key, *_flags(self.serve_kwargs),
        ]

    def _advertised(self) -> bool:
        try:
            info = json.loads((self.data_dir / "service.json").read_text())
        except (OSError, ValueError):
            return False
        return self.proc is not None and info.get("pid") == self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> LocalService:
        """Start (again) on the same port and data dir; return once /healthz answers."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("local service already running")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if not self.exec_:
            self.proc = fork_service(self.argv()[3:], REPO_ROOT, env, self.log_path)
        else:
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    self.argv(), cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=env,
                )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"local service exited early:\n{self.log()}")
            # Ready as the launcher sees it: advertised in service.json (written just after
            # uvicorn starts answering) and healthy. The file is read first: each httpx.get
            # builds a TLS context (~15 ms of CPU), and a start takes about 15 looks.
            # OSError: with tls=True the cert file may not be written yet.
            with contextlib.suppress(httpx.HTTPError, OSError):
                if self._advertised() and httpx.get(
                    self.endpoint + "/healthz", timeout=1.0, verify=self.verify
                ).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"local service not healthy after {timeout} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM and wait for a clean exit (SIGKILL if it hangs); returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def stop_in_background(self) -> None:
        """SIGTERM now; wait for the exit and reap the runs it left on a helper thread, so a
        test's teardown does not idle through the service's shutdown (about 0.3-0.5 s each).
        The session waits for every stop before it ends (``_background_stops``)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

        def finish() -> None:
            if self.proc is not None:
                try:  # no second SIGTERM: uvicorn takes that as "exit now, skip the shutdown"
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.kill()
            self.reap_orphans()

        _STOPS.append(_STOPPER.submit(finish))

    def kill(self) -> None:
        """SIGKILL the service (a crash): its running apps are left for recovery to find."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def reap_orphans(self) -> None:
        """Kill process groups of runs a killed service left running (test hygiene only)."""
        db = self.data_dir / "runs.db"
        if not db.exists():
            return
        with contextlib.closing(sqlite3.connect(db)) as conn:
            rows = conn.execute(
                "SELECT pid FROM runs WHERE status = 'running' AND pid > 1"
            ).fetchall()
        for (pid,) in rows:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(pid), signal.SIGKILL)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except FileNotFoundError:
            return ""

    def client(self, **kwargs: Any) -> httpx.Client:
        """A plain httpx client with the base URL, key and certificate set."""
        return httpx.Client(
            base_url=self.endpoint, headers=self.headers, verify=self.verify,
            timeout=kwargs.pop("timeout", 30.0), **kwargs,
        )

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.endpoint, headers=self.headers, verify=self.verify,
            timeout=kwargs.pop("timeout", 30.0), **kwargs,
        )


_STOPPER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="stop")
_STOPS: list[concurrent.futures.Future[None]] = []


@pytest.fixture(scope="session", autouse=True)
def _background_stops() -> Iterator[None]:
    """Every service stopped in the background has exited (and its runs are reaped) before
    the session ends; a stop that failed fails the session's teardown."""
    yield
    for future in _STOPS:
        future.result()
    _STOPPER.shutdown()
    close_forker()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("monkey", "the monkey test (tests/tui/test_monkey.py)")
    group.addoption("--monkey-seed", type=int, default=None,
                    help="replay this seed (default: MONKEY_SEED, else a new random seed)")
    group.addoption("--monkey-seconds", type=float, default=None,
                    help="how long the monkey presses keys (default: MONKEY_SECONDS, else 15)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run first, the longest first (``slow(seconds=N)``, default 5).

    Under ``-n 2 --dist loadgroup`` each ungrouped test is a unit handed out in this order, so
    a long test started last would leave the other worker idle while it ends the run. A
    stable sort: everything else keeps its order."""

    def seconds(item: pytest.Item) -> float:
        mark = item.get_closest_marker("slow")
        return float(mark.kwargs.get("seconds", 5)) if mark is not None else 0.0

    items.sort(key=lambda item: -seconds(item))


SUITE_FPS = 10
"""Frames a second of the monitors the suite runs in-process (Textual draws at most 60).

A frame recomposes every changed widget; at 60 a second the compositor was 37 % of the TUI
tests' CPU (py-spy over tests/tui). At 10 the same tests take 23 % less CPU. Tests wait for
conditions, never for a frame, and screenshots render on demand, so no assertion depends on
the rate. Tests marked ``full_frame_rate`` (the monkey) keep 60."""


@pytest.fixture(autouse=True)
def _frame_rate(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual reads its frame period (``TEXTUAL_FPS``, read when Textual is imported, which
    the snapshot plugin does before any conftest) when a screen's update timer is made."""
    import textual.screen

    if request.node.get_closest_marker("full_frame_rate") is None:
        assert isinstance(textual.screen.UPDATE_PERIOD, float), "Textual renamed UPDATE_PERIOD"
        monkeypatch.setattr(textual.screen, "UPDATE_PERIOD", 1 / SUITE_FPS)


@pytest.fixture(scope="session", autouse=True)
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One uv download cache for the whole session, inherited by every service it starts:
    an app environment that several tests build downloads its wheels once (CI budget).
    A ``UV_CACHE_DIR`` the developer set is kept."""
    preset = os.environ.get("UV_CACHE_DIR")
    if preset:
        yield Path(preset)
        return
    path = tmp_path_factory.mktemp("uv-cache")
    os.environ["UV_CACHE_DIR"] = str(path)
    try:
        yield path
    finally:
        os.environ.pop("UV_CACHE_DIR", None)


@pytest.fixture
def make_local_service(tmp_path: Path) -> Iterator[Callable[..., LocalService]]:
    """Factory: ``make_local_service(concurrency=1, tls=True, app=[dir], start=True)``."""
    services: list[LocalService] = []

    def make(
        *, start: bool = True, data_dir: Path | None = None, **serve_kwargs: Any
    ) -> LocalService:
        index = len(services)
        directory = data_dir or tmp_path / f"service-{index}"
        service = LocalService(directory, tmp_path / f"service-{index}.log", **serve_kwargs)
        services.append(service)
        if start:
            service.start()
        return service

    yield make
    for service in services:
        service.stop_in_background()


def module_service(
    tmp_path_factory: pytest.TempPathFactory, name: str, **serve_kwargs: Any
) -> Iterator[LocalService]:
    """Body of a module-scoped service fixture: one ``serve`` for the tests of a module that
    look only at their own runs, requests and apps (a start is about a second; many such
    tests take milliseconds). Mark those tests with one ``xdist_group`` so that one worker
    runs them all, one after the other. Tests that assert the whole queue or store keep
    their own service."""
    root = tmp_path_factory.mktemp(name)
    handle = LocalService(root / "data", root / "service.log", **serve_kwargs)
    handle.start()
    yield handle
    handle.stop_in_background()


@pytest.fixture
def local_service(make_local_service: Callable[..., LocalService]) -> LocalService:
    """One running local service with default settings (bundled apps, concurrency 2)."""
    return make_local_service()


# --- the same service in-process ---------------------------------------------------------------


class _RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, log: list[tuple[str, str]]) -> None:
        self._inner = inner
        self._log = log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._log.append((request.method, request.url.path))
        return await self._inner.handle_async_request(request)


class InProcessService:
    """The real service app (``create_app``) behind ``httpx.ASGITransport``, in the test's loop.

    Same routes, store, scheduler and subprocess executor as ``nextmv-tui serve``, minus
    uvicorn and the process boundary: no port, no start-up wait. The lifespan (recovery,
    dispatch, shutdown that stops running apps) runs in the test's event loop, so runs
    execute while the test awaits. Tests of the process boundary (service death, restart,
    TLS, the prefetch's own socket) keep ``local_service``.
    """

    endpoint = "http://inprocess.test"
    tls = False
    verify = True

    def __init__(self, data_dir: Path, **options: Any) -> None:
        from nextmv_tui.service.app import create_app
        from nextmv_tui.service.settings import ServiceSettings

        self.data_dir = data_dir
        self.api_key = "test-" + secrets.token_hex(16)
        apps = tuple(Path(p) for p in options.pop("app", ()))
        self.settings = ServiceSettings(
            data_dir=data_dir, api_key=self.api_key, app_dirs=apps, **options
        )
        self.asgi = create_app(self.settings)
        self.requests: list[tuple[str, str]] = []
        """(method, path) of every request, in order: for tests that count requests."""
        self.transport = _RecordingTransport(httpx.ASGITransport(app=self.asgi), self.requests)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.endpoint, headers=self.headers, transport=self.transport,
            timeout=kwargs.pop("timeout", 30.0), **kwargs,
        )


@pytest.fixture
async def make_inprocess_service(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[InProcessService]]]:
    """Factory: ``await make_inprocess_service(concurrency=0, app=[dir])`` (serve's options)."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**options: Any) -> InProcessService:
            service = InProcessService(tmp_path / f"inprocess-{secrets.token_hex(3)}", **options)
            await stack.enter_async_context(service.asgi.router.lifespan_context(service.asgi))
            return service

        yield make


@pytest.fixture
async def inprocess_service(
    make_inprocess_service: Callable[..., Awaitable[InProcessService]],
) -> InProcessService:
    """One in-process service with default settings (bundled apps, concurrency 2)."""
    return await make_inprocess_service()

# --- headless commands ---------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real config or env leaks in: an empty HOME and no NEXTMV_* variables."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith("NEXTMV_") or name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            monkeypatch.delenv(name)


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Callable[[LocalService], None]:
    """Point the commands at a service through the environment (never a flag in argv)."""

    def point(service: LocalService) -> None:
        monkeypatch.setenv("NEXTMV_ENDPOINT", service.endpoint)
        monkeypatch.setenv("NEXTMV_API_KEY", service.api_key)

    return point


def fresh_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (what it imports starts from nothing); its
    stripped stdout. Fails the test, with the stderr, if it exits non-zero."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def one_error_line(err: str) -> str:
    """The single ``nextmv-tui: error:`` line of a failed command's stderr."""
    lines = [line for line in err.splitlines() if line.startswith("nextmv-tui: error:")]
    assert len(lines) == 1, err
    return lines[0]
