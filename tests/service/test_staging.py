"""Staging a multi-file input: every member of the tar must stay inside the input folder,
links included (a link is checked against where it would point once extracted), and a
refused archive leaves nothing behind outside the folder. Through the executor, the run
fails with the reason in its error and its log."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from nextmv_tui.service.staging import SetupError, extract_input
from tests.service.test_executor import helper_app, log_lines, make_job, run


def tar_with(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            payload = data.get(member.name)
            if payload is not None:
                member.size = len(payload)
                tar.addfile(member, io.BytesIO(payload))
            else:
                tar.addfile(member)
    return path


def link(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    member.linkname = target
    return member


def regular(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


@pytest.mark.parametrize(("member", "why"), [
    (link("evil", "../../outside.txt"), "points outside the input folder"),
    (link("sub/evil", "../../outside.txt"), "points outside the input folder"),
    (link("abs", "/etc/passwd"), "points outside the input folder"),
    (link("hard", "../outside.txt", hard=True), "points outside the input folder"),
    (link("hard-abs", "/etc/passwd", hard=True), "points outside the input folder"),
    (link("up", ".."), "points outside the input folder"),
])
def test_links_escaping_the_input_folder_are_refused(tmp_path, member, why):
    (tmp_path / "outside.txt").write_text("keep me")
    archive = tar_with(tmp_path / "in.tar.gz", [regular("a.txt"), member], {"a.txt": b"a"})
    dest = tmp_path / "work" / "input"
    with pytest.raises(SetupError) as caught:
        extract_input(archive, dest)
    assert why in str(caught.value) and repr(member.name) in str(caught.value)
    assert list(dest.iterdir()) == [], "checked before anything is extracted"
    assert (tmp_path / "outside.txt").read_text() == "keep me"


def test_a_link_through_a_linked_folder_cannot_climb_out(tmp_path):
    """``d -> sub`` is inside; ``d/e -> ../../x`` is then judged from ``d``'s place."""
    archive = tar_with(tmp_path / "in.tar.gz",
                       [regular("sub/x"), link("d", "sub"), link("d/e", "../../x")],
                       {"sub/x": b"x"})
    with pytest.raises(SetupError, match="'d/e' points outside"):
        extract_input(archive, tmp_path / "input")


def test_links_inside_the_folder_are_kept(tmp_path):
    archive = tar_with(tmp_path / "in.tar.gz",
                       [regular("data/a.txt"), link("data/b.txt", "a.txt"),
                        link("c.txt", "data/a.txt", hard=True)],
                       {"data/a.txt": b"alpha"})
    dest = tmp_path / "input"
    extract_input(archive, dest)
    assert (dest / "data" / "b.txt").is_symlink()
    assert (dest / "data" / "b.txt").read_bytes() == b"alpha"
    assert (dest / "c.txt").read_bytes() == b"alpha"


@pytest.mark.parametrize("kind", [tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE])
def test_devices_and_fifos_are_refused(tmp_path, kind):
    member = tarfile.TarInfo("dev")
    member.type = kind
    archive = tar_with(tmp_path / "in.tar.gz", [member], {})
    with pytest.raises(SetupError, match="'dev' is not a file or folder"):
        extract_input(archive, tmp_path / "input")


def test_absolute_member_names_are_refused(tmp_path):
    archive = tar_with(tmp_path / "in.tar.gz", [regular("/tmp/abs.txt")], {"/tmp/abs.txt": b"x"})
    with pytest.raises(SetupError, match="escapes the input folder"):
        extract_input(archive, tmp_path / "input")


def test_not_a_tar_and_a_missing_archive_are_setup_errors(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar at all")
    with pytest.raises(SetupError, match=r"junk\.tar\.gz is not a valid tar\.gz"):
        extract_input(junk, tmp_path / "input")
    with pytest.raises(SetupError, match="input file missing"):
        extract_input(tmp_path / "nope.tar.gz", tmp_path / "input2")


async def test_a_run_whose_archive_holds_an_escaping_symlink_fails_and_says_why(tmp_path):
    (tmp_path / "outside.txt").write_text("keep me")
    archive = tar_with(tmp_path / "evil.tar.gz",
                       [regular("a.txt"), link("a.txt.link", "../../../../outside.txt")],
                       {"a.txt": b"alpha"})
    job = make_job(tmp_path, helper_app("multifile"), archive, input_format="multi-file")
    outcome = await run(job)
    assert outcome.status == "failed"
    assert "'a.txt.link' points outside the input folder" in outcome.error
    assert outcome.error in log_lines(job.run_dir)
    assert (tmp_path / "outside.txt").read_text() == "keep me"
