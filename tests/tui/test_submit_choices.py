"""The submit form and what the dialog offers, without a terminal: typed option checks
before the request is built, per-run fields, clone tracking, choices per application."""

from __future__ import annotations

import pytest

from nextmv_tui.cloud.catalog import InstanceList, OptionSchema, format_default
from nextmv_tui.cloud.errors import InputError
from nextmv_tui.tui.choices import app_choices
from nextmv_tui.tui.forms import SubmitForm

CLOUD_INSTANCE = {
    "id": "prod", "application_id": "routing", "version_id": "v3", "name": "Production",
    "configuration": {"execution_class": "6c9gb", "options": {"duration": "30", "mode": True}},
}


def test_the_form_refuses_a_mistyped_option_before_building_the_request() -> None:
    specs = [OptionSchema(name="duration", option_type="float", default=10)]
    form = SubmitForm(app_id="routing", options="duration=abc")
    with pytest.raises(InputError, match="'duration' must be a number"):
        form.to_request(specs)
    assert form.to_request().options == {"duration": "abc"}, "untyped: syntax only"
    assert SubmitForm(app_id="routing", options="duration=2.5").to_request(specs).options == {
        "duration": "2.5"
    }


def test_per_run_fields_start_empty_and_a_clone_is_tracked() -> None:
    form = SubmitForm(path="in.json", app_id="routing", instance_id="latest", name="n",
                      description="d", options="duration=3", execution_class="c",
                      priority=2, queuing=False, batch_experiment_id="bx")
    nxt = form.for_next_run()
    assert (nxt.name, nxt.description) == ("", "")
    assert (nxt.path, nxt.app_id, nxt.options, nxt.execution_class, nxt.priority,
            nxt.queuing, nxt.batch_experiment_id) == (
        "in.json", "routing", "duration=3", "c", 2, False, "bx")
    clone = SubmitForm(path="/tmp/x/run-1-input.json", app_id="a", cloned_from="run-1")
    assert clone.to_request().to_wire()["tracking"] == {"cloned_run_id": "run-1"}
    assert clone.for_next_run().path == "" and clone.for_next_run().cloned_from == ""


def test_app_choices_merge_typed_options_from_the_local_service_and_cloud_defaults() -> None:
    local = InstanceList.model_validate([{
        "id": "latest", "configuration": {"execution_class": "local",
                                          "options": {"duration": "10", "seed": "0"}},
        "nextmv_tui": {"options": [
            {"name": "duration", "option_type": "float", "default": 10},
            {"name": "seed", "option_type": "int", "default": 0}],
            "execution_classes": ["local", "big"]},
    }]).items
    choices = app_choices("routing", local)
    assert choices.instances == ["latest"] and choices.classes == ["local", "big"]
    assert choices.typed
    assert choices.options_hint() == "duration (float, default 10) · seed (int, default 0)"
    cloud = app_choices("routing", InstanceList.model_validate([CLOUD_INSTANCE]).items)
    assert not cloud.typed and cloud.classes == ["6c9gb"]
    assert cloud.options_hint() == "duration (default 30) · mode (default true)"
    assert format_default(True) == "true" and format_default(2.5) == "2.5"
