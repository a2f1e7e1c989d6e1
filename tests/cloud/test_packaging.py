"""The whole input-packaging matrix, including every refusal (all on real files)."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from nextmv_tui.cloud import packaging
from nextmv_tui.cloud.errors import InputError
from nextmv_tui.cloud.models import MAX_INLINE_BYTES
from nextmv_tui.cloud.packaging import package_input


def refused(path: Path, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        package_input(path)
    assert info.value.path == str(path)
    return info.value


def test_small_json_object_goes_inline(tmp_path: Path):
    path = tmp_path / "in.json"
    path.write_text('{\n  "items": [1, 2],\n  "name": "x"\n}\n')
    pkg = package_input(path)
    assert pkg.inline == {"items": [1, 2], "name": "x"}
    assert not pkg.needs_upload
    assert pkg.input_format == "json"
    assert pkg.size == len('{"items":[1,2],"name":"x"}')


def test_large_json_object_is_uploaded_unchanged(tmp_path: Path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"blob": "x" * (MAX_INLINE_BYTES + 10)}))
    pkg = package_input(path)
    assert pkg.inline is None
    assert pkg.upload_path == path and not pkg.temporary
    assert pkg.input_format == "json"
    assert pkg.size == path.stat().st_size


def test_inline_limit_is_exact(tmp_path: Path):
    overhead = len('{"b":""}')
    at_limit = tmp_path / "limit.json"
    at_limit.write_text(json.dumps({"b": "x" * (MAX_INLINE_BYTES - overhead)}))
    assert package_input(at_limit).inline is not None
    over = tmp_path / "over.json"
    over.write_text(json.dumps({"b": "x" * (MAX_INLINE_BYTES - overhead + 1)}))
    assert package_input(over).needs_upload


def test_json_list_is_uploaded_as_json(tmp_path: Path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]")
    pkg = package_input(path)
    assert pkg.needs_upload and pkg.input_format == "json"


def test_invalid_json_names_line_and_column(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": 1,\n  "b": ,\n}\n')
    err = refused(path, "invalid JSON at line 3, column 8")
    assert str(path) in str(err)


def test_large_json_checked_with_bounded_memory(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(packaging, "MAX_JSON_PARSE_BYTES", 100)
    good = tmp_path / "big.json"
    good.write_text("  [" + ",".join(["1"] * 200) + "]\n")
    assert package_input(good).needs_upload
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": ' + "1" * 200)
    refused(bad, "expected an object or array")


def test_text_file_is_uploaded_as_text(tmp_path: Path):
    path = tmp_path / "input.txt"
    path.write_text("4 3\n1 2 3\nnaïve ✓\n")
    pkg = package_input(path)
    assert (pkg.input_format, pkg.upload_path, pkg.size) == ("text", path, path.stat().st_size)


def test_directory_becomes_a_gzip_tar_of_regular_files(tmp_path: Path):
    root = tmp_path / "inputs"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.csv").write_text("x,y\n1,2\n")
    (root / "sub" / "b.txt").write_text("hello")
    (root / "sub" / "deeper" / "c.json").write_text("{}")
    (root / "inputs.tar.gz").write_bytes(b"old archive")
    (root / "empty-dir").mkdir()
    os.mkfifo(root / "pipe")
    (root / "link-to-a").symlink_to(root / "a.csv")
    (root / "loop").symlink_to(root / "loop")
    (root / "dirlink").symlink_to(root / "sub")
    pkg = package_input(root)
    try:
        assert pkg.input_format == "multi-file" and pkg.temporary
        assert pkg.upload_path is not None and pkg.upload_path.name.endswith(".tar.gz")
        assert pkg.size == pkg.upload_path.stat().st_size
        with tarfile.open(pkg.upload_path, "r:gz") as archive:
            members = archive.getmembers()
            names = sorted(m.name for m in members)
            assert all(m.isfile() for m in members)
            link = archive.extractfile("link-to-a")
            assert link is not None and link.read() == b"x,y\n1,2\n"
        assert names == ["a.csv", "link-to-a", "sub/b.txt", "sub/deeper/c.json"]
        skipped = " ".join(pkg.skipped)
        for name in ("inputs.tar.gz", "pipe", "loop", "dirlink"):
            assert name in skipped
    finally:
        pkg.cleanup()
    assert not pkg.upload_path.exists()


def _tar_gz(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("name", ["in.tar.gz", "in.tgz", "IN.TAR.GZ"])
def test_tar_gz_is_uploaded_unchanged(tmp_path: Path, name: str):
    path = tmp_path / name
    _tar_gz(path, {"a.csv": b"1,2\n"})
    pkg = package_input(path)
    assert (pkg.input_format, pkg.upload_path, pkg.temporary) == ("multi-file", path, False)


def test_tar_gz_that_is_not_gzip_is_refused(tmp_path: Path):
    path = tmp_path / "fake.tar.gz"
    path.write_text("just text")
    refused(path, "not a gzip archive")
    plain = tmp_path / "plain.tgz"
    with tarfile.open(plain, "w") as archive:
        info = tarfile.TarInfo("a")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    refused(plain, "uncompressed tar")


def test_gzip_that_is_not_a_tar_is_refused(tmp_path: Path):
    path = tmp_path / "data.tar.gz"
    path.write_bytes(gzip.compress(b"not a tar at all" * 100))
    refused(path, "not a valid tar archive")
    other = tmp_path / "data.gz"
    other.write_bytes(gzip.compress(b"hello"))
    refused(other, "not a valid tar archive")


def test_missing_path(tmp_path: Path):
    refused(tmp_path / "nope.json", "no such file or directory")


def test_broken_symlink(tmp_path: Path):
    link = tmp_path / "dangling.json"
    link.symlink_to(tmp_path / "gone.json")
    refused(link, "broken symbolic link")


def test_symlink_loop(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    refused(a, "symbolic link loop")


def test_empty_file(tmp_path: Path):
    path = tmp_path / "empty.json"
    path.touch()
    refused(path, "is empty")


def test_empty_directory(tmp_path: Path):
    root = tmp_path / "d"
    (root / "only-dirs").mkdir(parents=True)
    refused(root, "no regular files")


def test_fifo_is_refused_without_being_opened(tmp_path: Path):
    fifo = tmp_path / "input.json"
    os.mkfifo(fifo)
    # Opening a FIFO with no writer would block this test forever: refusal proves stat-only.
    refused(fifo, "FIFO")


def test_device_is_refused():
    path = Path("/dev/null")
    refused(path, "is a device")


def test_binary_non_archive(tmp_path: Path):
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    refused(path, "binary")
    as_json = tmp_path / "blob.json"
    as_json.write_bytes(b'{"a": "\x00"}')
    refused(as_json, "binary")


def test_non_utf8_text(tmp_path: Path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 ok\n".encode("latin-1"))
    refused(path, r"not valid UTF-8 text \(byte offset 3\)")
    js = tmp_path / "latin1.json"
    js.write_bytes('{"a": "caf\u00e9"}'.encode("latin-1"))
    refused(js, "not valid UTF-8")


def test_over_the_payload_limit_is_checked_by_stat(tmp_path: Path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(500 * 1024 * 1024 + 1)
    refused(path, "over the 500.0 MiB limit")


def test_directory_over_the_payload_limit(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(packaging, "MAX_PAYLOAD_BYTES", 10)
    root = tmp_path / "d"
    root.mkdir()
    (root / "a.txt").write_text("0123456789abc")
    refused(root, "over the")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path):
    path = tmp_path / "secret.json"
    path.write_text("{}")
    path.chmod(0)
    refused(path, "permission denied")


def test_unreadable_file_as_root_is_reported(tmp_path: Path, monkeypatch):
    """Root can read mode-000 files, so the permission failure is injected at open()."""
    path = tmp_path / "secret.txt"
    path.write_text("hello")
    real_open = Path.open

    def deny(self: Path, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    refused(path, "not readable")
    root = tmp_path / "dir"
    root.mkdir()
    inner = root / "x.txt"
    inner.write_text("x")
    path = inner
    with pytest.raises(InputError, match=r"x\.txt: not readable"):
        package_input(root)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_refused_with_position(tmp_path: Path, constant: str):
    """Python's json accepts NaN/Infinity; the API would silently turn them into null."""
    path = tmp_path / "nan.json"
    path.write_text('{\n  "note": "NaN in a string is fine",\n  "a": ' + constant + "\n}")
    error = refused(path, "line 3, column 8")
    assert constant in error.reason


def test_nan_inside_a_string_is_accepted(tmp_path: Path):
    path = tmp_path / "ok.json"
    path.write_text('{"a": "NaN", "b": "say \\"Infinity\\""}')
    assert package_input(path).inline == {"a": "NaN", "b": 'say "Infinity"'}


def test_inline_limit_counts_utf8_bytes(tmp_path: Path):
    """4.2 MB of UTF-8 text is inline (it was counted ASCII-escaped: 12.6 MB, uploaded)."""
    path = tmp_path / "accents.json"
    document = {"text": "é" * 2_100_000}
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")),
                    encoding="utf-8")
    packaged = package_input(path)
    assert packaged.inline is not None
    assert packaged.size == len(path.read_bytes())


def test_directory_walk_stops_at_the_file_count_bound(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(packaging, "MAX_DIR_FILES", 50)
    root = tmp_path / "many"
    for folder in range(20):
        (root / f"d{folder}").mkdir(parents=True)
        for index in range(20):
            (root / f"d{folder}" / f"f{index}.txt").write_text("x")
    error = refused(root, "more than 50 files")
    assert str(root) in str(error)


def test_directory_walk_stops_as_soon_as_the_size_bound_is_passed(tmp_path: Path, monkeypatch):
    """The size is checked while walking: the walk never reaches the unreadable folder that
    comes after the bound was passed (it would raise 'cannot list')."""
    monkeypatch.setattr(packaging, "MAX_PAYLOAD_BYTES", 1000)
    root = tmp_path / "big"
    (root / "a").mkdir(parents=True)
    (root / "a" / "blob.txt").write_bytes(b"x" * 2000)
    walked: list[str] = []
    real_walk = os.walk

    def walk(top, **kwargs):
        for item in real_walk(top, **kwargs):
            walked.append(item[0])
            yield item

    monkeypatch.setattr(packaging.os, "walk", walk)
    for index in range(5):
        (root / f"z{index}").mkdir()
    refused(root, "more than 1000 B of files")
    assert not any(Path(folder).name.startswith("z") for folder in walked)


def test_directory_walk_stops_at_the_folder_bound(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(packaging, "MAX_DIR_FOLDERS", 30)
    root = tmp_path / "deep"
    for index in range(40):
        (root / f"d{index:02d}").mkdir(parents=True)
    refused(root, "more than 30 folders")
