"""What a Python app's environment costs per run: built once, then reused.

Measures, with uv's download cache warm (the first iteration warms it and is not counted):
- build: ``Environments.prepare`` of a fresh requirements hash (``uv venv`` + ``uv pip
  install idna==2.10`` + ``uv pip freeze``), what the first run of an app pays;
- reuse: ``prepare`` of an environment that exists (every later run);
- anchor: what the SDK's local runner pays on *every* run, ``uv run --with idna==2.10
  python -c pass`` (nextmv-apps.md §1.2), measured here in the same process.

Needs PyPI the first time (idna 2.10). Prints median and spread (min-max) of each.

    .venv/bin/python benchmarks/appenv_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nextmv_tui.service.appenv import Environments, uv_command
from nextmv_tui.service.manifest import load_manifest


def app_folder(root: Path, index: int) -> Path:
    """An app whose requirements hash is new each time (a comment makes the file differ)."""
    folder = root / f"app{index}"
    folder.mkdir()
    (folder / "main.py").write_text("")
    (folder / "app.yaml").write_text(
        "type: python\nfiles: [main.py]\npython:\n  pip-requirements: requirements.txt\n"
    )
    (folder / "requirements.txt").write_text(f"# variant {index}\nidna==2.10\n")
    return folder


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def report(name: str, samples: list[float]) -> None:
    print(f"{name:8s} median {statistics.median(samples) * 1000:8.1f} ms   "
          f"spread {min(samples) * 1000:.1f}-{max(samples) * 1000:.1f} ms   n={len(samples)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        envs = Environments(root / "envs")
        envs.prepare(load_manifest(app_folder(root, 0)))  # warms uv's cache
        builds, reuses, anchors = [], [], []
        uv = uv_command()
        anchor = [*uv, "run", "--no-project", "--with", "idna==2.10", "python", "-c", "pass"]
        subprocess.run(anchor, check=True, capture_output=True, cwd=root)  # warm
        for index in range(1, repeat + 1):
            manifest = load_manifest(app_folder(root, index))
            builds.append(timed(lambda manifest=manifest: envs.prepare(manifest)))
            reuses.append(timed(lambda manifest=manifest: envs.prepare(manifest)))
            anchors.append(timed(lambda: subprocess.run(anchor, check=True,
                                                        capture_output=True, cwd=root)))
    print(f"python {sys.version.split()[0]}, uv {' '.join(uv)}")
    report("build", builds)
    report("reuse", reuses)
    report("anchor", anchors)
    ratio = statistics.median(reuses) / statistics.median(anchors)
    print(f"reuse / anchor: {ratio:.1e} (a run after the first pays this fraction of the "
          "SDK runner's per-run environment cost)")


if __name__ == "__main__":
    main()
