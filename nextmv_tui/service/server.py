"""Run the service in the foreground with uvicorn; advertise it in ``data_dir/service.json``.

``service.json`` (endpoint, pid, tls, cert path) exists exactly while the service answers:
written once the socket is bound, removed on a clean exit (SIGINT/SIGTERM). After a kill -9
it stays behind; the launcher treats it as stale when the pid is gone or health fails.
A lock file keeps a second service off the same data dir (SQLite and run dirs are shared).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import IO, Any

import uvicorn

from nextmv_tui.service.settings import ServiceSettings

Announce = Callable[[str, list[str]], None]
"""Called once serving: (endpoint, one line per registered app)."""


class ServiceStartError(Exception):
    """The service cannot start (data dir in use, bad app folder, port taken)."""


class PortUnavailableError(ServiceStartError):
    """The service cannot listen on its port (taken, or not allowed)."""


class _Server(uvicorn.Server):
    """uvicorn's server minus its habit of re-raising the signal after a graceful exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        try:
            originals = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        except ValueError:  # not the main thread
            yield
            return
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on ``data_dir/service.lock`` for the life of the process."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = (data_dir / "service.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ServiceStartError(
            f"another nextmv-tui service is already using {data_dir} (see service.json there)"
        ) from None
    return handle


def serve(settings: ServiceSettings, announce: Announce | None = None) -> None:
    """Block serving until SIGINT/SIGTERM. Raises ``ServiceStartError`` if it cannot start."""
    from nextmv_tui.service.app import create_app

    # Private by default: every file and folder the service (and its apps) creates is its
    # owner's alone (0600/0700) whatever the umask it was started with.
    os.umask(0o077)
    lock = lock_data_dir(settings.data_dir)
    try:
        try:
            app = create_app(settings)
        except (ValueError, OSError) as exc:
            raise ServiceStartError(str(exc)) from exc
        options: dict[str, Any] = {}
        cert: Path | None = None
        if settings.tls:
            from nextmv_tui.service.tls import ensure_certificate

            files = ensure_certificate(settings.tls_dir)
            cert = files.cert
            options = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            backlog=4096,
            timeout_graceful_shutdown=5,
            timeout_keep_alive=65,  # clients poll every few seconds: keep their connections
            **options,
        )
        server = _Server(config)
        app_lines: list[str] = list(app.state.app_lines)
        asyncio.run(_run(server, settings, cert, announce, app_lines))
    finally:
        lock.close()


async def _run(
    server: _Server,
    settings: ServiceSettings,
    cert: Path | None,
    announce: Announce | None,
    app_lines: list[str],
) -> None:
    task = asyncio.create_task(_serve_until_exit(server))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if task.done():
        code = await task
        raise PortUnavailableError(
            f"could not serve on {settings.host}:{settings.port} (port in use or not "
            f"allowed?); uvicorn exit code {code}"
        )
    port = settings.port
    with contextlib.suppress(Exception):
        port = int(server.servers[0].sockets[0].getsockname()[1])
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    endpoint = f"{settings.scheme}://{host}:{port}"
    _write_service_file(settings.service_file, endpoint, settings, cert)
    try:
        if announce is not None:
            announce(endpoint, app_lines)
        await task
    finally:
        _remove_service_file(settings.service_file)


async def _serve_until_exit(server: _Server) -> object:
    """uvicorn calls sys.exit() when it cannot bind; turn that into a return value."""
    try:
        await server.serve()
    except SystemExit as exc:
        return exc.code
    return None


def _write_service_file(
    path: Path, endpoint: str, settings: ServiceSettings, cert: Path | None
) -> None:
    info = {
        "endpoint": endpoint,
        "pid": os.getpid(),
        "tls": settings.tls,
        "cert": str(cert) if cert else None,
        "api_key_file": _key_file(settings),
        "started_at": time.time(),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _key_file(settings: ServiceSettings) -> str | None:
    """Where a local client (the launcher) can read the key; None when it was given inline."""
    if settings.api_key_file is not None:
        return str(Path(settings.api_key_file).expanduser().resolve())
    return None if settings.api_key else str(settings.api_key_path)


def _remove_service_file(path: Path) -> None:
    """Remove service.json only if it is still ours."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
