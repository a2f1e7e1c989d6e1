"""app.yaml loading: the fields the executor uses, and clear errors naming file and field."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nextmv_tui.service.manifest import (
    ManifestError,
    bundled_apps,
    load_manifest,
    sanitize_app_id,
)

TEST_APPS = Path(__file__).parent / "apps"


def make_app(folder: Path, manifest: str, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.yaml").write_text(manifest)
    for name, text in (files if files is not None else {"main.py": "print('{}')\n"}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_bundled_apps_are_knapsack_and_routing():
    apps = {app.app_id: app for app in bundled_apps()}
    assert set(apps) == {"knapsack", "routing"}
    for app in apps.values():
        assert app.type == "python"
        assert app.content_format == "json"
        assert app.entrypoint == "main.py"
        assert app.resolve_files() == ["main.py"]
        assert (app.root / "input.json").is_file()
        assert app.command(Path("/w")) == [sys.executable, "/w/main.py"]
    assert apps["routing"].option_defaults == {"duration": 10, "seed": 0}
    assert apps["knapsack"].option_names == ("duration", "algorithm")


def test_minimal_manifest_gets_sdk_defaults(tmp_path):
    app = load_manifest(make_app(tmp_path / "My Cool App!", "type: python\nfiles: [main.py]\n"))
    assert app.app_id == "my-cool-app"
    assert app.name == "my-cool-app"
    assert app.content_format == "json"
    assert app.input_path == "inputs/"
    assert app.solutions_path == "outputs/solutions/"
    assert app.options == ()
    assert not app.file_based


def test_explicit_app_id_and_multi_file_paths(tmp_path):
    app = load_manifest(TEST_APPS / "multifile", app_id="mf")
    assert app.app_id == "mf"
    assert app.content_format == "multi-file" and app.file_based
    assert app.input_path == "data/in/"
    assert app.solutions_path == "data/out/"
    assert app.resolve_files() == ["main.py", "lib/helper.py"]


def test_folder_in_files_selects_its_tree_and_entrypoint_override(tmp_path):
    folder = make_app(
        tmp_path / "app",
        "type: python\nfiles: [src]\nexecution:\n  entrypoint: ./src/run.py\n  cwd: src\n",
        {"src/run.py": "", "src/pkg/mod.py": ""},
    )
    app = load_manifest(folder)
    assert app.entrypoint == "src/run.py"
    assert app.cwd == "src/"
    assert sorted(app.resolve_files()) == ["src/pkg/mod.py", "src/run.py"]


@pytest.mark.parametrize(
    ("kind", "command"),
    [("binary", ["/w/main"]), ("go", ["/w/main"]),
     ("java", ["java", "-XX:MaxRAMPercentage=90", "-jar", "/w/main.jar"])],
)
def test_command_per_type(tmp_path, kind, command):
    entry = "main.jar" if kind == "java" else "main"
    app = load_manifest(make_app(tmp_path / "a", f"type: {kind}\nfiles: [{entry}]\n", {entry: ""}))
    assert app.command(Path("/w")) == command


def test_pip_requirements_are_recorded(tmp_path):
    app = load_manifest(make_app(
        tmp_path / "a",
        "type: python\nfiles: [main.py]\npython:\n  pip-requirements: requirements.txt\n",
    ))
    assert app.pip_requirements == ("requirements.txt",)


@pytest.mark.parametrize(
    ("manifest", "field", "files"),
    [
        ("type: rust\nfiles: [main.py]\n", "'type'", None),
        ("files: [main.py]\n", "'type'", None),
        ("type: python\n", "'files'", None),
        ("type: python\nfiles: []\n", "'files'", None),
        ("type: python\nfiles: [main.py, '*.csv']\n", "'files'", None),
        ("type: python\nfiles: [other.py]\n", "'files'", {"other.py": ""}),
        ("type: python\nfiles: [../main.py]\n", "'files[0]'", None),
        ("type: python\nfiles: [/etc/passwd]\n", "'files[0]'", None),
        ("type: python\nfiles: [main.py]\nconfiguration:\n  content:\n    format: xml\n",
         "'configuration.content.format'", None),
        ("type: python\nfiles: [main.py]\nconfiguration:\n  options:\n    items:\n"
         "      - name: \"bad\\tname\"\n", "'configuration.options.items[0].name'", None),
        ("type: python\nfiles: [main.py]\nconfiguration:\n  options:\n    items:\n"
         "      - name: x\n        option_type: decimal\n",
         "'configuration.options.items[0].option_type'", None),
        ("type: python\nfiles: [main.py]\nexecution: 3\n", "'execution'", None),
        ("type: python\nfiles: [main.py]\nconfiguration:\n  content:\n    format: multi-file\n"
         "    multi-file:\n      input:\n        path: ../up\n",
         "'configuration.content.multi-file.input.path'", None),
    ],
)
def test_invalid_manifests_name_file_and_field(tmp_path, manifest, field, files):
    folder = make_app(tmp_path / "app", manifest, files)
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    message = str(caught.value)
    assert str(folder / "app.yaml") in message
    assert f"field {field}" in message


def test_unreadable_manifests(tmp_path):
    with pytest.raises(ManifestError, match="app folder does not exist"):
        load_manifest(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ManifestError, match=r"app\.yaml: missing"):
        load_manifest(tmp_path / "empty")
    make_app(tmp_path / "bad", "type: [python\n")
    with pytest.raises(ManifestError, match="invalid YAML"):
        load_manifest(tmp_path / "bad")
    make_app(tmp_path / "list", "- 1\n")
    with pytest.raises(ManifestError, match="must be a YAML mapping"):
        load_manifest(tmp_path / "list")


def test_manifest_error_is_a_value_error_and_app_id_is_checked(tmp_path):
    folder = make_app(tmp_path / "a", "type: python\nfiles: [main.py]\n")
    with pytest.raises(ValueError, match="app id"):
        load_manifest(folder, app_id="Not Safe/Id")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Knapsack", "knapsack"), ("my app (v2)", "my-app-v2"), ("---", "app"), ("a_b-c", "a_b-c")],
)
def test_sanitize_app_id(name, expected):
    assert sanitize_app_id(name) == expected


def test_every_problem_is_reported_at_once(tmp_path):
    folder = make_app(
        tmp_path / "app",
        "type: rust\nfiles: [main.py, ../up.py]\nconfiguration:\n  options:\n    items:\n"
        "      - name: ok\n      - 3\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'app.yaml'}: ")
    assert "field 'type': must be one of python, go, binary, java (got 'rust')" in message
    assert "field 'files[1]': must be a relative path inside the app ('../up.py')" in message
    assert "field 'configuration.options.items[1]': must be a mapping" in message


def test_option_names_with_spaces_are_accepted_and_passed_as_one_flag(tmp_path):
    """SDK manifests allow spaces in option names; ``-max stops`` is one argv element."""
    app = load_manifest(make_app(
        tmp_path / "a",
        "type: python\nfiles: [main.py]\nconfiguration:\n  options:\n    items:\n"
        "      - name: max stops\n        option_type: int\n",
    ))
    assert app.option_names == ("max stops",)
