"""What the submit dialog offers: known applications, each one's instances, execution
classes and options (Textual-free, cached for the session).

Read from the API the first time they are needed (``GET v1/applications``, then ``GET
v1/applications/{app}/instances`` per application chosen) and merged with what the queue
has shown (applications and classes of listed runs). Anything that fails to load is simply
not offered: the fields stay free text and option values are checked for syntax only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nextmv_tui.cloud.catalog import OptionSchema, format_default

if TYPE_CHECKING:
    from nextmv_tui.cloud.catalog import Instance
    from nextmv_tui.cloud.client import NextmvClient


@dataclass
class AppChoices:
    """One application's choices."""

    app_id: str
    instances: list[str] = field(default_factory=list)
    options: list[OptionSchema] = field(default_factory=list)
    """Declared options: typed on the local service; on Cloud the instance defaults, untyped
    (``option_type`` "")."""
    classes: list[str] = field(default_factory=list)
    default_options: dict[str, str] = field(default_factory=dict)

    @property
    def typed(self) -> bool:
        return any(spec.option_type for spec in self.options)

    def options_hint(self) -> str:
        """``duration (float, default 10) · seed (int, default 0)``."""
        parts = []
        for spec in self.options:
            default = "" if spec.default is None else f"default {format_default(spec.default)}"
            inside = ", ".join(p for p in (spec.option_type, default) if p)
            parts.append(f"{spec.name} ({inside})" if inside else spec.name)
        return " · ".join(parts)


def app_choices(app_id: str, instances: Iterable[Instance]) -> AppChoices:
    """Merge an application's instances into what the dialog offers."""
    choices = AppChoices(app_id)
    typed: dict[str, OptionSchema] = {}
    for instance in instances:
        choices.instances.append(instance.id)
        config = instance.configuration
        if config.execution_class and config.execution_class not in choices.classes:
            choices.classes.append(config.execution_class)
        for name, value in (config.options or {}).items():
            choices.default_options.setdefault(str(name), format_default(value))
        if instance.nextmv_tui is not None:
            for spec in instance.nextmv_tui.options:
                typed.setdefault(spec.name, spec)
            for name in instance.nextmv_tui.execution_classes:
                if name not in choices.classes:
                    choices.classes.append(name)
    untyped = [
        OptionSchema(name=name, option_type="", default=value)
        for name, value in choices.default_options.items() if name not in typed
    ]
    choices.options = [*typed.values(), *untyped]
    return choices


class Choices:
    """The session's cache of applications and their choices."""

    def __init__(self, client: Callable[[], NextmvClient]) -> None:
        self._client = client
        self.apps: list[str] | None = None
        self._by_app: dict[str, AppChoices] = {}
        self.errors: dict[str, str] = {}
        """What could not be loaded (shown as a hint), by ``apps`` or application ID."""

    def clear(self) -> None:
        self.apps = None
        self._by_app.clear()
        self.errors.clear()

    def cached(self, app_id: str) -> AppChoices | None:
        return self._by_app.get(app_id)

    async def load_apps(self) -> list[str]:
        if self.apps is None:
            try:
                apps = await self._client().list_applications()
            except Exception as exc:  # offered as free text instead
                self.errors["apps"] = str(exc)
                return []
            self.apps = sorted(app.id for app in apps)
        return self.apps

    async def load_app(self, app_id: str) -> AppChoices:
        cached = self._by_app.get(app_id)
        if cached is not None:
            return cached
        try:
            instances = await self._client().list_instances(app_id)
        except Exception as exc:  # options stay free text
            self.errors[app_id] = str(exc)
            return AppChoices(app_id)
        choices = app_choices(app_id, instances)
        self._by_app[app_id] = choices
        return choices
