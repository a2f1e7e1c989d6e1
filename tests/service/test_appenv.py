"""Per-app Python environments (``service/appenv.py``) with real uv and real wheels.

Offline by construction: the wheels are built by the test (``helpers.write_wheel``) and the
requirements files say ``--no-index --find-links wheels``, so uv resolves from a local folder.
The one test that needs PyPI (an older ``idna`` than the service's own) is in
``test_conformance_envs.py``.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from nextmv_tui.service.appenv import (
    MARKER,
    EnvError,
    Environments,
    choose_requirements_file,
    host_arch,
    requirement_name,
)
from nextmv_tui.service.manifest import load_manifest
from tests.service.helpers import write_app, write_wheel

OTHER_ARCH = "arm64" if host_arch() == "amd64" else "amd64"
OTHER_TAG = "py3-none-manylinux2014_" + ("aarch64" if OTHER_ARCH == "arm64" else "x86_64")
LOCAL_INDEX = "--no-index\n--find-links wheels\n"


def python_app(folder: Path, requirements: str, extra: str = "") -> Path:
    return write_app(
        folder,
        "type: python\nruntime: ghcr.io/nextmv-io/runtime/python:3.11\nfiles: [main.py]\n"
        f"python:\n  pip-requirements: {requirements}\n{extra}",
        {"main.py": "import fakepkg\nprint(fakepkg.VERSION)\n"},
    )


def version_in(python: str) -> str:
    done = subprocess.run(
        [python, "-c", "import fakepkg; print(fakepkg.VERSION)"],
        capture_output=True, text=True, check=True, timeout=60,
    )
    return done.stdout.strip()


def test_built_once_then_reused_and_logged(tmp_path: Path) -> None:
    app = python_app(tmp_path / "app", "requirements.txt")
    write_wheel(app / "wheels", "fakepkg", "1.0")
    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.0  # pinned\n")
    envs = Environments(tmp_path / "envs")
    manifest = load_manifest(app)

    first = envs.prepare(manifest)
    second = envs.prepare(manifest)

    assert first is not None and second is not None
    assert first.built_in is not None and second.built_in is None
    assert first.path == second.path and (first.path / MARKER).is_file()
    assert version_in(second.python) == "1.0"
    lines = second.log_lines(manifest.runtime)
    assert lines[0].startswith("python environment: 1 requirement(s) from requirements.txt, reused")
    assert lines[1] == "  fakepkg==1.0 -> fakepkg 1.0"
    assert "runtime ghcr.io/nextmv-io/runtime/python:3.11 is not emulated" in lines[2]


def test_a_changed_requirements_file_gets_a_new_environment(tmp_path: Path) -> None:
    app = python_app(tmp_path / "app", "requirements.txt")
    write_wheel(app / "wheels", "fakepkg", "1.0")
    write_wheel(app / "wheels", "fakepkg", "2.0")
    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.0\n")
    envs = Environments(tmp_path / "envs")
    old = envs.prepare(load_manifest(app))

    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==2.0\n")
    new = envs.prepare(load_manifest(app))

    assert old is not None and new is not None
    assert new.path != old.path and new.built_in is not None
    assert version_in(new.python) == "2.0"
    assert version_in(old.python) == "1.0"  # the other one is left for apps that still use it


def test_runs_needing_the_same_environment_at_once_build_it_once(tmp_path: Path) -> None:
    app = python_app(tmp_path / "app", "requirements.txt")
    write_wheel(app / "wheels", "fakepkg", "1.0")
    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.0\n")
    envs = Environments(tmp_path / "envs")
    manifest = load_manifest(app)
    start = threading.Barrier(4)
    results: list[object] = []

    def prepare() -> None:
        start.wait()
        results.append(envs.prepare(manifest))

    threads = [threading.Thread(target=prepare) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    built = [env for env in results if getattr(env, "built_in", None) is not None]
    assert len(results) == 4 and len(built) == 1
    assert len({getattr(env, "path", None) for env in results}) == 1


def test_an_interrupted_build_is_rebuilt(tmp_path: Path) -> None:
    app = python_app(tmp_path / "app", "requirements.txt")
    write_wheel(app / "wheels", "fakepkg", "1.0")
    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.0\n")
    envs = Environments(tmp_path / "envs")
    env = envs.prepare(load_manifest(app))
    assert env is not None
    (env.path / MARKER).unlink()  # as if the service died before the build finished
    (env.path / "bin" / "python").unlink()

    again = envs.prepare(load_manifest(app))

    assert again is not None and again.built_in is not None
    assert version_in(again.python) == "1.0"


def test_no_wheel_for_this_machine_fails_naming_the_requirement(tmp_path: Path) -> None:
    app = python_app(tmp_path / "app", "requirements.txt")
    write_wheel(app / "wheels", "fakepkg", "1.0", OTHER_TAG)
    (app / "requirements.txt").write_text(LOCAL_INDEX + "six>=0; python_version < '3'\n"
                                          "fakepkg==1.0\n")
    envs = Environments(tmp_path / "envs")

    with pytest.raises(EnvError) as caught:
        envs.prepare(load_manifest(app))

    message = str(caught.value)
    assert message.startswith("cannot install python requirement 'fakepkg==1.0' "
                              "(requirements.txt): ")
    assert "platform" in message
    assert "fakepkg" in caught.value.details
    assert not list((tmp_path / "envs").iterdir())  # nothing half-built is kept


def test_no_network_fails_naming_the_requirement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-cache"))
    app = write_app(
        tmp_path / "app",
        "type: python\nfiles: [main.py]\npython:\n  pip-requirements: [idna==2.10]\n",
        {"main.py": "print('{}')\n"},
    )

    with pytest.raises(EnvError) as caught:
        Environments(tmp_path / "envs").prepare(load_manifest(app))

    assert str(caught.value).startswith(
        "cannot install python requirement 'idna==2.10' (inline list): "
    )


def test_inline_list_and_pyproject_dependencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "fakepkg", "1.0")
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    inline = write_app(
        tmp_path / "inline",
        "type: python\nfiles: [main.py]\npython:\n  pip-requirements:\n    - fakepkg==1.0\n",
        {"main.py": ""},
    )
    project = write_app(
        tmp_path / "project",
        "type: python\nfiles: [main.py]\npython:\n  pip-requirements: pyproject.toml\n",
        {"main.py": "", "pyproject.toml":
         '[project]\nname = "x"\nversion = "0"\ndependencies = ["fakepkg==1.0"]\n'},
    )
    envs = Environments(tmp_path / "envs")

    from_list = envs.prepare(load_manifest(inline))
    from_project = envs.prepare(load_manifest(project))

    assert from_list is not None and from_project is not None
    assert from_list.requirements.source == "inline list"
    assert from_project.requirements.source == "pyproject.toml"
    assert from_project.requirements.specs == ("fakepkg==1.0",)
    assert version_in(from_list.python) == version_in(from_project.python) == "1.0"


def test_an_architecture_specific_file_falls_back_to_the_one_for_this_machine(
    tmp_path: Path,
) -> None:
    app = python_app(tmp_path / "app", f"requirements-{OTHER_ARCH}.txt",
                     f"  arch: {OTHER_ARCH}\n")
    write_wheel(app / "wheels", "fakepkg", "1.0", OTHER_TAG)
    write_wheel(app / "wheels", "fakepkg", "1.1")
    (app / f"requirements-{OTHER_ARCH}.txt").write_text(LOCAL_INDEX + "fakepkg==1.0\n")
    (app / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.1\n")

    env = Environments(tmp_path / "envs").prepare(load_manifest(app))

    assert env is not None
    assert env.requirements.source == "requirements.txt"
    assert version_in(env.python) == "1.1"
    notes = "\n".join(env.log_lines(""))
    assert f"requirements-{OTHER_ARCH}.txt is for {OTHER_ARCH}" in notes
    assert "using requirements.txt" in notes
    assert f"python.arch {OTHER_ARCH} is not emulated" in notes


def test_choose_requirements_file(tmp_path: Path) -> None:
    host = host_arch()
    spelled = {"amd64": "x86_64", "arm64": "aarch64"}.get(host, host)
    other = tmp_path / f"requirements_{OTHER_ARCH}.txt"
    other.write_text("")
    chosen, note = choose_requirements_file(other)
    assert chosen == other  # nothing for this machine next to it: installed as is
    assert "no file for" in str(note)

    (tmp_path / "requirements.txt").write_text("")
    assert choose_requirements_file(other)[0] == tmp_path / "requirements.txt"
    (tmp_path / f"requirements_{spelled}.txt").write_text("")
    assert choose_requirements_file(other)[0] == tmp_path / f"requirements_{spelled}.txt"

    plain = tmp_path / "requirements.txt"
    assert choose_requirements_file(plain) == (plain, None)
    mine = tmp_path / f"requirements_{spelled}.txt"
    assert choose_requirements_file(mine) == (mine, None)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ("idna==2.10", "idna"),
        ("Typing_Extensions>=4 ; python_version < '3.12'", "typing-extensions"),
        ("pkg[extra]~=1.0", "pkg"),
        ("name @ https://example.invalid/name-1.0.tar.gz", "name"),
        ("https://example.invalid/x-1.0.whl", None),
        ("./vendor/x-1.0.whl", None),
    ],
)
def test_requirement_names(spec: str, name: str | None) -> None:
    assert requirement_name(spec) == name


def test_identical_requirements_share_an_environment_unless_they_point_next_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nextmv_tui.service.appenv import read_requirements

    plain = [python_app(tmp_path / f"plain{i}", "requirements.txt") for i in range(2)]
    local = [python_app(tmp_path / f"local{i}", "requirements.txt") for i in range(2)]
    for folder in plain:
        (folder / "requirements.txt").write_text("fakepkg==1.0\n")
    for folder in local:
        (folder / "requirements.txt").write_text(LOCAL_INDEX + "fakepkg==1.0\n")

    def digest(folder: Path) -> str:
        found = read_requirements(load_manifest(folder))
        assert found is not None
        return found.digest

    assert digest(plain[0]) == digest(plain[1])  # one environment for both apps
    assert digest(local[0]) != digest(local[1])  # their wheels folders differ
