"""The submit form's rules, without a terminal: options syntax, priority, app ID, paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from nextmv_tui.cloud.errors import InputError
from nextmv_tui.tui.forms import SubmitForm, parse_options


def test_full_form_builds_the_request_the_api_expects() -> None:
    form = SubmitForm(
        path="in.json",
        app_id=" routing ",
        instance_id="latest",
        name="  nightly ",
        description="a test",
        options="duration=30, seed = 7\nmode=fast,solver=a=b",
        execution_class="6c_custom",
        priority=2,
        queuing=False,
        batch_experiment_id="bx-1",
    )
    wire = form.to_request().to_wire()
    assert wire == {
        "name": "nightly",
        "description": "a test",
        "options": {"duration": "30", "seed": "7", "mode": "fast", "solver": "a=b"},
        "configuration": {
            "execution_class": "6c_custom",
            "queuing": {"priority": 2, "disabled": True},
        },
        "batch_experiment_id": "bx-1",
    }


def test_defaults_send_only_what_was_given() -> None:
    wire = SubmitForm(app_id="knapsack").to_request().to_wire()
    assert wire == {"configuration": {"queuing": {"priority": 6, "disabled": False}}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        (" , \n ,", {}),
        ("a=1", {"a": "1"}),
        ("a=", {"a": ""}),
        ("a=1,b=2", {"a": "1", "b": "2"}),
        ("a=1\nb=2\n", {"a": "1", "b": "2"}),
        ("model.limit-x=3", {"model.limit-x": "3"}),
        ("url=http://h/?q=1", {"url": "http://h/?q=1"}),
    ],
)
def test_options_parse(text: str, expected: dict[str, str]) -> None:
    assert parse_options(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("duration", "item 1 'duration' is not key=value"),
        ("a=1, b", "item 2 'b' is not key=value"),
        ("=5", "has no name before '='"),
        ("bad key=1", "'bad key' is not a valid option name"),
        ("a=1,a=2", "'a' is given twice"),
    ],
)
def test_bad_options_name_the_field_and_item(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        SubmitForm(app_id="knapsack", options=text).to_request()
    assert str(caught.value).startswith("options: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize("priority", [0, 10, -1])
def test_priority_out_of_range_is_refused(priority: int) -> None:
    with pytest.raises(InputError, match=rf"^priority: must be from 1 to 9, got {priority}$"):
        SubmitForm(app_id="knapsack", priority=priority).to_request()


@pytest.mark.parametrize("priority", [1, 9])
def test_priority_bounds_are_accepted(priority: int) -> None:
    request = SubmitForm(app_id="knapsack", priority=priority).to_request()
    assert request.configuration.queuing is not None
    assert request.configuration.queuing.priority == priority


@pytest.mark.parametrize("app_id", ["", "   "])
def test_empty_app_id_is_refused(app_id: str) -> None:
    with pytest.raises(InputError, match=r"^application ID: must not be empty$"):
        SubmitForm(app_id=app_id).to_request()


def test_app_id_with_spaces_is_refused() -> None:
    with pytest.raises(InputError, match="application ID: 'my app' must not contain spaces"):
        SubmitForm(app_id="my app").to_request()


def test_input_path_is_relative_to_start_dir(tmp_path: Path) -> None:
    form = SubmitForm(path="data/in.json", start_dir=str(tmp_path))
    assert form.input_path() == tmp_path / "data" / "in.json"
    absolute = tmp_path / "x.json"
    assert SubmitForm(path=f" {absolute} ", start_dir="/elsewhere").input_path() == absolute


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert SubmitForm(path="~/in.json").input_path() == tmp_path / "in.json"


def test_empty_path_is_refused() -> None:
    with pytest.raises(InputError, match=r"^input path: choose a file or directory"):
        SubmitForm(path="  ").input_path()
