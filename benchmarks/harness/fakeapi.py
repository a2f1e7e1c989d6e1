"""Synthetic Nextmv API for benchmarks: a fast server with a queue of N runs that changes.

    python -m benchmarks.harness.fakeapi --runs 10000 --change 0.05 [--age 3600] [--port 0]

Run it as its own process (``FakeApi`` below does), so it never shares a GIL with the
harness or the measured program. It prints ``port P`` first, then one event line per queue
answer on stdout so the harness knows when a refresh began, on the shared monotonic clock:

    Q <generation> <request read> <answer starts going out> <answer written> <bytes> <path>

(monotonic seconds; "written" is when the socket buffer took the last byte).

State is a pure function of the generation: every ``GET v1/account/queue`` after the first,
and every ``GET /bench/delta``, advances the generation by one and toggles the status
(queued <-> running, ``status_changed_at`` = now) of a ``--change`` fraction of the runs:
those with ``index % period == generation % period``. ``/bench/delta`` answers only the
entries that changed (the floor app's feed: the least work an app can do to apply the same
updates). ``POST /bench/reset?runs=N&change=F&age=S[&follow=T]`` starts over.

With ``follow=T`` the queue also holds ``FOLLOW_ID``, running from the reset for T seconds,
then ``succeeded`` (gone from the queue, metadata and result final): the run a user follows.
The reset prints ``F <monotonic start> <T>``, and every request about that run prints
``R <client> <kind> <monotonic>`` (client ``sdk`` for python-requests, else ``tui``; kind
``metadata``, ``logs``, ``result`` or ``other``), so a benchmark counts each client's requests
and knows exactly when the run finished. Run metadata, live logs,
logs and results are served for any run of the queue, so the detail pane works. The run
history is served as Nextmv Cloud serves it: ``GET v1/applications`` (``knapsack`` and
``routing``) and ``GET v1/applications/{app}/runs`` (``--history`` finished runs per
application, older than the queue, newest first, 50 per page with page tokens). Anything
else is a JSON 404. Entries are serialised once and re-serialised only when they change, so
a 50,000-run answer (about 20 MB) costs the server tens of milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

HEADER_LIMIT = 64 * 1024
FOLLOW_ID = "bench-9000000"
APPS = ("knapsack", "routing")
PAGE = 50


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run_id(index: int) -> str:
    return f"bench-{index:07d}"


class Queue:
    def __init__(self, runs: int, change: float, age: float, follow: float = 0.0) -> None:
        self.follow = follow
        self.follow_start = time.time()
        if follow:
            print(f"F {time.monotonic():.6f} {follow}", flush=True)
        self.runs = runs
        self.period = max(1, round(1 / change)) if change > 0 else 0
        self.generation = -1  # the first queue answer is generation 0
        base = time.time() - age
        self.created = [base - index * 0.01 for index in range(runs)]
        self.running = [index % 10 == 0 for index in range(runs)]
        self.changed_at = list(self.created)
        self.entries = [self._entry(index) for index in range(runs)]

    def _fields(self, index: int) -> dict[str, Any]:
        status = "running" if self.running[index] else "queued"
        return {
            "id": run_id(index), "user_email": "bench@example.com",
            "name": f"bench run {index}", "description": "",
            "created_at": iso(self.created[index]),
            "application_id": "routing" if index % 2 else "knapsack",
            "application_instance_id": "latest", "application_version_id": "",
            "execution_class": "local", "status": status, "status_v2": status,
            "queuing_priority": 1 + index % 9, "status_changed_at": iso(self.changed_at[index]),
        }

    def _entry(self, index: int) -> bytes:
        return json.dumps(self._fields(index), separators=(",", ":")).encode()

    def advance(self) -> list[int]:
        """Next generation; returns the indices that changed."""
        self.generation += 1
        if self.generation == 0 or not self.period:
            return []
        now = time.time()
        changed = list(range(self.generation % self.period, self.runs, self.period))
        for index in changed:
            self.running[index] = not self.running[index]
            self.changed_at[index] = now
            self.entries[index] = self._entry(index)
        return changed

    def follow_status(self) -> str:
        return "running" if time.time() < self.follow_start + self.follow else "succeeded"

    def follow_info(self) -> dict[str, Any]:
        status = self.follow_status()
        started = iso(self.follow_start)
        return {
            "id": FOLLOW_ID, "name": "followed run", "description": "",
            "user_email": "bench@example.com",
            "metadata": {
                "application_id": "routing", "application_instance_id": "latest",
                "application_version_id": "", "created_at": started,
                "duration": 1000 * min(self.follow, time.time() - self.follow_start),
                "error": "", "format": {"input": {"type": "json"}, "output": {"type": "json"}},
                "input_size": 100, "output_size": 20 if status == "succeeded" else 0,
                "status": status, "status_v2": status,
                "run_type": {"type": "standard", "definition_id": "", "reference_id": ""},
                "execution_class": "local", "queuing_priority": 6,
                "status_changed_at": started,
            },
        }

    def body(self, indices: list[int] | None = None) -> bytes:
        chosen = self.entries if indices is None else [self.entries[i] for i in indices]
        if indices is None and self.follow and self.follow_status() == "running":
            fields = self.follow_info()
            entry = {"id": FOLLOW_ID, "user_email": fields["user_email"],
                     "name": fields["name"], "description": "",
                     "created_at": fields["metadata"]["created_at"],
                     "application_id": "routing", "application_instance_id": "latest",
                     "application_version_id": "", "execution_class": "local",
                     "status": "running", "status_v2": "running", "queuing_priority": 6,
                     "status_changed_at": fields["metadata"]["created_at"]}
            chosen = [json.dumps(entry, separators=(",", ":")).encode(), *chosen]
        extra = b'"generation":%d,' % self.generation
        return b'{' + extra + b'"runs":[' + b",".join(chosen) + b"]}"

    def index_of(self, rid: str) -> int | None:
        if not rid.startswith("bench-"):
            return None
        try:
            index = int(rid[6:])
        except ValueError:
            return None
        return index if 0 <= index < self.runs else None

    def metadata(self, index: int) -> dict[str, Any]:
        fields = self._fields(index)
        return {
            "id": fields["id"], "name": fields["name"], "description": "",
            "user_email": fields["user_email"],
            "metadata": {
                "application_id": fields["application_id"],
                "application_instance_id": "latest", "application_version_id": "",
                "created_at": fields["created_at"], "duration": 0, "error": "",
                "format": {"input": {"type": "json"}, "output": {"type": "json"}},
                "input_size": 100, "output_size": 0, "status": fields["status"],
                "status_v2": fields["status_v2"],
                "run_type": {"type": "standard", "definition_id": "", "reference_id": ""},
                "execution_class": "local", "queuing_priority": fields["queuing_priority"],
                "status_changed_at": fields["status_changed_at"],
            },
        }


class History:
    """Finished runs per application, serialised once; IDs ``hist-<app>-<n>``."""

    def __init__(self, per_app: int, before: float) -> None:
        self.pages: dict[str, list[bytes]] = {}
        for app in APPS:
            items = [self._item(app, index, before - 60.0 * index) for index in range(per_app)]
            self.pages[app] = items

    @staticmethod
    def _item(app: str, index: int, created: float) -> bytes:
        failed = index % 7 == 3
        return json.dumps({
            "id": f"hist-{app}-{index:04d}", "user_email": "bench@example.com",
            "name": f"{app} history {index}", "description": "", "created_at": iso(created),
            "application_id": app, "application_instance_id": "latest",
            "application_version_id": "", "execution_class": "local",
            "status_v2": "failed" if failed else "succeeded", "queuing_priority": 6,
            "statistics": {"status": "none" if failed else "succeeded", "indicators": [] if failed
                           else [{"name": "result.value", "value": 1000.0 + index}]},
            "duration": 2500.0, "execution_duration": 2000.0,
            "status_changed_at": iso(created + 2.5),
        }, separators=(",", ":")).encode()

    def apps(self, paged: bool) -> bytes:
        items = json.dumps([{"id": app, "name": app} for app in APPS]).encode()
        return b'{"items":' + items + b"}" if paged else items

    def runs(self, app: str, token: str | None) -> tuple[int, bytes]:
        items = self.pages.get(app)
        if items is None:
            return 404, b'{"error":"application not found"}'
        start = int(token) if token and token.isdigit() else 0
        page = items[start:start + PAGE]
        tail = (b',"next_page_token":"%d"' % (start + PAGE)) if start + PAGE < len(items) else b""
        return 200, b'{"runs":[' + b",".join(page) + b"]" + tail + b"}"


class Server:
    def __init__(self, queue: Queue, history: History) -> None:
        self.queue = queue
        self.history = history

    def route(self, method: str, target: str) -> tuple[int, bytes, str]:
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        if path == "/healthz":
            return 200, b'{"status":"ok"}', ""
        if path == "/bench/reset" and method == "POST":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self.queue = Queue(int(query.get("runs", self.queue.runs)),
                               float(query.get("change", 0.05)), float(query.get("age", 0)),
                               float(query.get("follow", 0)))
            return 200, b'{"reset":true}', ""
        if path == "/v1/account/queue" and method == "GET":
            self.queue.advance()
            return 200, self.queue.body(), "Q"
        if path == "/bench/delta" and method == "GET":
            return 200, self.queue.body(self.queue.advance()), "Q"
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path == "/v1/applications" and method == "GET":
            return 200, self.history.apps(query.get("pagereturn") == "true"), ""
        segments = path.strip("/").split("/")
        if (method == "GET" and len(segments) == 4 and segments[:2] == ["v1", "applications"]
                and segments[3] == "runs"):
            status, body = self.history.runs(segments[2], query.get("pagetoken"))
            return status, body, ""
        return self.run_route(method, path)

    def run_route(self, method: str, path: str) -> tuple[int, bytes, str]:
        segments = path.strip("/").split("/")
        # v1/applications/{app}/runs/{run}[/metadata|/logs|/logs/live]
        if method != "GET" or len(segments) < 5 or segments[:2] != ["v1", "applications"]:
            return 404, b'{"error":"not found"}', ""
        index = self.queue.index_of(segments[4])
        followed = segments[4] == FOLLOW_ID and self.queue.follow > 0
        if (index is None and not followed) or segments[3] != "runs":
            return 404, b'{"error":"run not found"}', ""
        info = self.queue.follow_info() if followed else self.queue.metadata(index or 0)
        rest = segments[5:]
        if rest == ["metadata"]:
            body: dict[str, Any] = info
        elif rest == ["logs", "live"]:
            # Like the local service: pace clients at 1 s; a running followed run logs.
            status = info["metadata"]["status_v2"]
            items = ([{"timestamp": iso(time.time()), "log": "best objective 42"}]
                     if followed and status == "running" else [])
            body = {"items": items, "status_v2": status, "next_available_in_seconds": 1}
        elif rest == ["logs"]:
            body = {"log": ""}
        elif rest == []:
            final = info["metadata"]["status_v2"] == "succeeded"
            body = {**info, "output": {"solution": {"value": 1}} if final else None}
        else:
            return 404, b'{"error":"not found"}', ""
        return 200, json.dumps(body).encode(), "M"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > HEADER_LIMIT:
                    break
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if FOLLOW_ID in target:
                    report_follow(target, "python-requests" in head.decode("latin-1"))
                if length:
                    await reader.readexactly(length)
                received = time.monotonic()
                status, body, event = self.route(method, target)
                reason = {200: b"OK", 404: b"Not Found"}.get(status, b"Error")
                sending = time.monotonic()
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % (status, reason, len(body)))
                writer.write(body)
                await writer.drain()
                if event == "Q":
                    print(f"Q {self.queue.generation} {received:.6f} {sending:.6f} "
                          f"{time.monotonic():.6f} {len(body)} {urlsplit(target).path}",
                          flush=True)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


def report_follow(target: str, sdk: bool) -> None:
    path = urlsplit(target).path.rstrip("/")
    kind = ("metadata" if path.endswith("/metadata") else "logs" if "/logs" in path
            else "result" if path.endswith(FOLLOW_ID) else "other")
    print(f"R {'sdk' if sdk else 'tui'} {kind} {time.monotonic():.6f}", flush=True)


async def serve(args: argparse.Namespace) -> None:
    queue = Queue(args.runs, args.change, args.age)
    server = Server(queue, History(args.history, min(queue.created, default=time.time()) - 60))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", args.port,
                                          limit=HEADER_LIMIT)
    port = listener.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--change", type=float, default=0.05)
    parser.add_argument("--age", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--history", type=int, default=100,
                        help="finished runs listed per application (the run history)")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
