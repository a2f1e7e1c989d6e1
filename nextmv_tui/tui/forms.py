"""The submit form as plain data: what the user typed, validated into a create-run request.

Kept free of widgets so the rules (options syntax, priority range, required app ID) are tested
without a terminal, and so the app can remember the last used values for the session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nextmv_tui.cloud.catalog import OptionSchema, check_options
from nextmv_tui.cloud.errors import InputError
from nextmv_tui.cloud.models import CreateRunRequest, Queuing, RunConfiguration, RunTracking

_OPTION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_SEPARATORS = re.compile(r"[,\n]")


def parse_options(text: str) -> dict[str, str]:
    """Parse ``key=value`` pairs separated by commas or newlines, in order.

    Raises ``InputError`` naming the options field, the offending item and why.
    """
    options: dict[str, str] = {}
    items = [item.strip() for item in _SEPARATORS.split(text)]
    for number, item in enumerate((i for i in items if i), start=1):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise InputError("options", f"item {number} '{item}' is not key=value")
        if not key:
            raise InputError("options", f"item {number} '{item}' has no name before '='")
        if not _OPTION_NAME.match(key):
            raise InputError(
                "options",
                f"item {number}: '{key}' is not a valid option name "
                "(letters, digits, '_', '-', '.')",
            )
        if key in options:
            raise InputError("options", f"'{key}' is given twice")
        options[key] = value.strip()
    return options


@dataclass
class SubmitForm:
    """Values of the submit modal; defaults are what a fresh session shows."""

    path: str = ""
    app_id: str = ""
    instance_id: str = ""
    name: str = ""
    description: str = ""
    options: str = ""  # k=v pairs separated by commas or newlines
    execution_class: str = ""
    priority: int = 6
    queuing: bool = True
    batch_experiment_id: str = ""
    start_dir: str = "."
    cloned_from: str = ""
    """The run this form was cloned from (sent as ``tracking.cloned_run_id``)."""

    def for_next_run(self) -> SubmitForm:
        """What the next submit starts from: the application, instance, class, options and
        queuing are kept; the per-run name and description start empty, and a cloned run's
        input (a temporary copy) is not offered again."""
        path = "" if self.cloned_from else self.path
        return replace(self, name="", description="", cloned_from="", path=path)

    def input_path(self) -> Path:
        """The input path; a relative one is taken from ``start_dir``, ``~`` is expanded."""
        text = self.path.strip()
        if not text:
            raise InputError("input path", "choose a file or directory, or type its path")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = Path(self.start_dir).expanduser() / path
        return path

    def to_request(self, option_specs: Sequence[OptionSchema] = ()) -> CreateRunRequest:
        """Validate the fields and build the request (input and format are set by the client).

        Option values are checked against ``option_specs`` (the app's declared types) when
        they are known: ``duration=abc`` is refused for a float option, naming it."""
        app_id = self.app_id.strip()
        if not app_id:
            raise InputError("application ID", "must not be empty")
        if any(ch.isspace() for ch in app_id):
            raise InputError("application ID", f"'{app_id}' must not contain spaces")
        instance_id = self.instance_id.strip()
        if any(ch.isspace() for ch in instance_id):
            raise InputError("instance ID", f"'{instance_id}' must not contain spaces")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InputError("priority", f"'{self.priority}' is not a whole number from 1 to 9")
        if not 1 <= self.priority <= 9:
            raise InputError("priority", f"must be from 1 to 9, got {self.priority}")
        options = parse_options(self.options)
        check_options(options, list(option_specs))
        configuration = RunConfiguration(
            execution_class=self.execution_class.strip() or None,
            queuing=Queuing(priority=self.priority, disabled=not self.queuing),
        )
        return CreateRunRequest(
            name=self.name.strip() or None,
            description=self.description.strip() or None,
            options=options or None,
            configuration=configuration,
            batch_experiment_id=self.batch_experiment_id.strip() or None,
            tracking=RunTracking(cloned_run_id=self.cloned_from) if self.cloned_from else None,
        )


@dataclass(frozen=True)
class SubmittedRun:
    """What the submit modal returns on success: the new run and the form that made it."""

    run_id: str
    app_id: str
    name: str
    form: SubmitForm
