"""Submitting a large text input: ``nextmv-tui submit`` against curl (wall time) and against
the official SDK (peak RSS), all uploading the same file to the real local service.

    .venv/bin/python benchmarks/upload_bench.py [--upload-mb 450] [--repeat 5] [--quick]

Each repetition runs, in an order that rotates, four processes against one local service
(``--concurrency 0``, loopback, its presigned PUT writing to disk), with ``sync`` before
each so none pays for another's dirty pages:

- ``curl -T FILE URL``: a PUT of the file to a presigned URL obtained just before (the
  URL request is not timed): the floor for moving the bytes;
- ``nextmv-tui submit FILE``: the whole command (start-up, packaging, upload URL, PUT, create
  run), which checks text while it streams (read once);
- the same command with the check done in full before the upload (how it worked before:
  the file read twice), for the difference in the same run;
- the official SDK (``nextmv`` 1.13): ``Application.new_run(input=<the file's text>)``.

Wall time is process start to exit; peak RSS is the process's ``ru_maxrss`` (wait4).
Prints median [min..max] and paired ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import stats
from benchmarks.harness.servers import BIN, LocalService, local_service

OLD_PATH = (
    "import sys\n"
    "from nextmv_tui.cloud import packaging\n"
    "packaging.FULL_CHECK_BYTES = 1 << 62  # check all of it before sending, as before\n"
    "from nextmv_tui.cli import main\n"
    "sys.exit(main())\n"
)

SDK = (
    "import sys\n"
    "from nextmv import cloud\n"
    "path, endpoint, key = sys.argv[1:4]\n"
    "client = cloud.Client(api_key=key, url=endpoint)\n"
    "app = cloud.Application(client=client, id='knapsack')\n"
    "with open(path, encoding='utf-8') as handle:\n"
    "    text = handle.read()\n"
    "print(app.new_run(input=text, name='sdk upload'))\n"
)


def make_text(path: Path, size: int) -> None:
    line = b"".join(b"%06d,stop-%d,%d.%03d,%d\n" % (i, i % 977, i % 90, i % 1000, i % 7)
                    for i in range(2000))
    with path.open("wb") as handle:
        remaining = size
        while remaining > 0:
            handle.write(line[: min(len(line), remaining)])
            remaining -= len(line)


def timed(argv: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    error = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {error[-500:]}")
    return elapsed, usage.ru_maxrss * 1024


def commands(name: str, service: LocalService, source: Path) -> list[str]:
    common = ["--app-id", "knapsack", "--endpoint", service.endpoint, "--api-key",
              service.api_key]
    if name == "curl":
        url = httpx.post(f"{service.endpoint}/v1/applications/knapsack/runs/uploadurl",
                         headers={"Authorization": f"Bearer {service.api_key}"},
                         timeout=30).json()["upload_url"]
        return ["curl", "-sS", "-f", "-o", "/dev/null", "-T", str(source), url]
    if name == "submit":
        return [str(BIN / "nextmv-tui"), "submit", str(source), *common]
    if name == "submit, checked first":
        return [sys.executable, "-c", OLD_PATH, "submit", str(source), *common]
    return [sys.executable, "-c", SDK, str(source), service.endpoint, service.api_key]


def clear_stored(data_dir: Path) -> None:
    """Drop stored uploads and run inputs (disk), keep the service's database."""
    for folder in (data_dir / "uploads", data_dir / "runs"):
        if folder.exists():
            for entry in folder.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upload-mb", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke check: 20 MB, 1 repetition")
    args = parser.parse_args()
    if args.quick:
        args.upload_mb, args.repeat = 20, 1
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed (apt-get install curl)")
    size = args.upload_mb * 1000 * 1000
    stats.header(f"submit a {size / 1e6:.0f} MB text file to the local service, "
                 f"{args.repeat} interleaved repetitions", args.repeat)
    names = ["curl", "submit", "submit, checked first", "official SDK"]
    walls: dict[str, list[float]] = {name: [] for name in names}
    peaks: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="upload-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "input.txt"
        make_text(source, size)
        (tmp / "data").mkdir()
        with local_service(tmp / "data") as service:
            for rep in range(args.repeat):
                for name in names[rep % len(names):] + names[:rep % len(names)]:
                    argv = commands(name, service, source)
                    os.sync()
                    wall, peak = timed(argv)
                    walls[name].append(wall)
                    peaks[name].append(peak)
                    clear_stored(tmp / "data")
    print("   wall time, process start to exit")
    for name in names:
        print(f"      {name:<24} {stats.fmt(walls[name], ' s', 1, 2)}")
    print("      " + stats.ratio_line("submit / curl", walls["submit"], walls["curl"],
                                      unit=" s", digits=2))
    print("      " + stats.ratio_line("submit checked first / curl",
                                      walls["submit, checked first"], walls["curl"],
                                      unit=" s", digits=2))
    print("   peak RSS (ru_maxrss)")
    for name in names:
        print(f"      {name:<24} {stats.fmt(peaks[name], ' MB', 1e-6, 0)}")
    print("      " + stats.ratio_line("submit / official SDK", peaks["submit"],
                                      peaks["official SDK"], unit=" MB", scale=1e-6, digits=0))
    stats.footer()


if __name__ == "__main__":
    main()
