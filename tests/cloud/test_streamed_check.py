"""Large text inputs are read once: checked (UTF-8, no NUL) while they upload.

Against the REAL local service. ``FULL_CHECK_BYTES`` is lowered so a few MiB stand for the
hundreds a user would send; the code paths are the same. What must hold for a bad file:
no run is created, the message names the file and the byte offset, and the presigned upload
is never complete (the PUT is aborted short of its Content-Length; the service keeps nothing).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from nextmv_tui.cloud import packaging
from nextmv_tui.cloud.client import NextmvClient
from nextmv_tui.cloud.config import ClientConfig
from nextmv_tui.cloud.errors import InputError
from nextmv_tui.cloud.models import CreateRunRequest
from nextmv_tui.cloud.packaging import package_input

MIB = 1024 * 1024
SIZE = 3 * MIB + 12345
LINE = b"0123456789 abcdefghij\n"


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packaging, "FULL_CHECK_BYTES", 2 * MIB)


def text_file(path: Path, bad_at: int | None = None, bad: bytes = b"\xff") -> Path:
    data = bytearray((LINE * (SIZE // len(LINE) + 1))[:SIZE])
    if bad_at is not None:
        data[bad_at:bad_at + len(bad)] = bad
    path.write_bytes(bytes(data))
    return path


def read_bytes_so_far() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def client_for(service) -> NextmvClient:
    return NextmvClient(ClientConfig(service.endpoint, service.api_key, verify=service.verify))


def uploads_kept(service) -> list[str]:
    """Completed uploads on the service's disk, once no partial one is left (deadline 10 s)."""
    folder = service.data_dir / "uploads"
    deadline = time.monotonic() + 10
    while True:
        names = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        if not any(name.endswith(".part") for name in names) or time.monotonic() > deadline:
            return [name for name in names if not name.endswith(".part")]
        time.sleep(0.05)  # polling a condition with a deadline


def test_large_text_is_packaged_after_reading_only_its_head(tmp_path: Path):
    path = text_file(tmp_path / "big.txt", bad_at=SIZE - 100)
    before = read_bytes_so_far()
    package = package_input(path)
    read = read_bytes_so_far() - before
    assert package.check_text and package.input_format == "text"
    # The head only (slack for anything else the process reads; the whole file is 3 MiB).
    assert read <= packaging.READ_CHUNK + 512 * 1024, f"packaging read {read} bytes"


def test_small_text_is_still_checked_in_full_before_sending(tmp_path: Path):
    small = tmp_path / "small.txt"
    small.write_bytes(LINE * 1000 + b"\xc3\x28" + LINE)
    with pytest.raises(InputError, match=r"byte offset 22000\)$"):
        package_input(small)


def test_bad_head_of_a_large_file_is_refused_before_sending(tmp_path: Path):
    path = text_file(tmp_path / "big.txt", bad_at=1000)
    with pytest.raises(InputError, match=r"big.txt: is not valid UTF-8 text \(byte offset 1000\)"):
        package_input(path)


@pytest.mark.parametrize(
    ("bad_at", "bad", "expected"),
    [
        (2 * MIB + 777, b"\xff", r"not valid UTF-8 text \(byte offset 2097929\)"),
        (SIZE - 1, b"\xe2", r"truncated sequence at byte offset 3158072\)"),
        (SIZE - 5000, b"\x00", r"binary file \(NUL byte at offset 3153073\)"),
    ],
    ids=["bad-byte-deep", "truncated-at-the-end", "nul-deep"],
)
async def test_bad_text_found_while_uploading_creates_no_run(
    local_service, tmp_path: Path, bad_at: int, bad: bytes, expected: str
):
    path = text_file(tmp_path / "big.txt", bad_at=bad_at, bad=bad)
    package = package_input(path)
    assert package.check_text
    sent: list[int] = []
    async with client_for(local_service) as client:
        before = {run.id for run in await client.account_queue()}
        with pytest.raises(InputError) as caught:
            await client.submit("knapsack", package, CreateRunRequest(name="never"),
                                progress=lambda done, total: sent.append(done))
        after = await client.account_queue()
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "found while uploading: no run was created" in message
    assert re.search(expected, message), message
    assert {run.id for run in after} == before
    assert not [run for run in after if run.name == "never"]
    assert max(sent, default=0) < SIZE  # the last byte was never sent
    assert uploads_kept(local_service) == []


async def test_good_large_text_uploads_once_and_creates_the_run(local_service, tmp_path: Path):
    path = text_file(tmp_path / "big.txt")
    before = read_bytes_so_far()
    package = package_input(path)
    async with client_for(local_service) as client:
        run_id = await client.submit("knapsack", package, CreateRunRequest(name="big text"))
        info = await client.run_information("knapsack", run_id)
    read = read_bytes_so_far() - before
    assert info.metadata.format.input.type == "text"
    assert info.metadata.input_size == SIZE
    # The head once while packaging, the file once while uploading (HTTP answers are small).
    assert read < SIZE + packaging.READ_CHUNK + MIB, f"read {read} bytes for {SIZE}"
