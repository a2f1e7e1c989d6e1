"""A warm ``nextmv-tui serve``: imports the service once, then forks one child per start.

Started by ``tests/service_forks.py`` (one per pytest worker); not a test module. Requests
come as JSON lines on stdin (``{"argv": [...], "cwd": ..., "env": {...}, "log": path}``) and
the answers go out as JSON lines on stdout: ``{"pid": N}`` once the child exists, then
``{"pid": N, "exit": CODE}`` when it ends (``-SIGNAL`` if a signal ended it, as
``Popen.returncode``). The child runs ``nextmv_tui.cli.main(argv)`` exactly as
``python -m nextmv_tui`` does, with the request's cwd, environment and log as stdout and
stderr, and exits through the interpreter's own shutdown (atexit handlers included).

The file name holds ``nextmv_tui`` on purpose: the launcher recognises a service by its
command line (``cli/local_session.py``), and a forked child keeps this process's.
"""

from __future__ import annotations

import json
import os
import selectors
import sys

# The imports a start would pay for, paid once.
import nextmv_tui.cli
import nextmv_tui.cli.serve
import nextmv_tui.service.app
import nextmv_tui.service.server  # noqa: F401
from nextmv_tui.cli import main as nextmv_tui_main


def _reply(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _become_service(request: dict[str, object], inherited: list[int]) -> None:
    """In the child: the request's stdio, cwd and environment, then ``main``; never returns."""
    for fd in inherited:
        os.close(fd)
    log = os.open(str(request["log"]), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    os.chdir(str(request["cwd"]))
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    argv = [str(arg) for arg in request["argv"]]  # type: ignore[attr-defined]
    sys.argv = ["nextmv-tui", *argv]
    raise SystemExit(nextmv_tui_main(argv))


def serve_requests() -> None:
    selector = selectors.DefaultSelector()
    stdin = sys.stdin.buffer.raw  # type: ignore[attr-defined]
    selector.register(stdin, selectors.EVENT_READ, None)
    pending = b""
    children: dict[int, int] = {}  # pidfd -> pid
    while True:
        for key, _ in selector.select():
            if key.data is not None:  # a child ended
                pid = key.data
                selector.unregister(key.fd)
                os.close(key.fd)
                del children[key.fd]
                _, status = os.waitpid(pid, 0)
                _reply({"pid": pid, "exit": os.waitstatus_to_exitcode(status)})
                continue
            chunk = os.read(stdin.fileno(), 65536)
            if not chunk:  # the worker is gone: leave the children to their stops
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    _become_service(request, list(children))
                pidfd = os.pidfd_open(pid)
                children[pidfd] = pid
                selector.register(pidfd, selectors.EVENT_READ, pid)
                _reply({"pid": pid})


if __name__ == "__main__":
    serve_requests()
