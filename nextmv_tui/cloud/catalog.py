"""What a submit can choose from: applications, their instances, execution classes and the
options each app declares (wire models plus a typed check of option values).

Nextmv Cloud lists an application's instances at ``GET v1/applications/{app}/instances``
(a bare list, or ``{"items": [...], "next_page_token"}`` with ``pagereturn=true``); each
instance's ``configuration`` carries its ``execution_class`` and default ``options``
(``{name: value}``, untyped). The local service answers the same route and adds one
read-only extension object per instance, ``nextmv_tui``: the options the app's ``app.yaml``
declares (name, type, default, description) and the service's execution classes. Cloud
does not send it, so option types are known only on the local service; elsewhere values
are checked for syntax only.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from nextmv_tui.cloud.errors import InputError
from nextmv_tui.cloud.models import Str, UtcDatetime, WireModel

OPTION_TYPES = ("string", "bool", "int", "float")
TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
}
TRUE_WORDS = frozenset({"true", "1", "yes", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "f"})


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


class OptionSchema(WireModel):
    """One option an app declares (``app.yaml`` ``configuration.options.items``)."""

    name: str
    option_type: str = "string"
    default: Any = None
    description: Str = ""
    required: bool = False

    @property
    def summary(self) -> str:
        """``duration (float, default 10)``."""
        default = "" if self.default is None else f", default {format_default(self.default)}"
        return f"{self.name} ({self.option_type}{default})"


class LocalExtension(WireModel):
    """The local service's extension of an instance (absent on Nextmv Cloud)."""

    options: Annotated[list[OptionSchema], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    execution_classes: Annotated[list[str], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class InstanceConfiguration(WireModel):
    execution_class: str | None = None
    options: dict[str, Any] | None = None


class Instance(WireModel):
    """``GET v1/applications/{app}/instances`` item (the SDK's ``Instance`` fields)."""

    id: str
    application_id: Str = ""
    version_id: Str = ""
    name: Str = ""
    description: Str = ""
    configuration: Annotated[InstanceConfiguration, BeforeValidator(
        lambda v: {} if v is None else v
    )] = Field(default_factory=InstanceConfiguration)
    locked: bool = False
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    nextmv_tui: LocalExtension | None = None


class InstanceList(WireModel):
    """A page of instances; a bare list (the unpaginated answer) reads as one page."""

    items: Annotated[list[Instance], BeforeValidator(_none_to_list)] = Field(default_factory=list)
    next_page_token: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"items": value} if isinstance(value, list) else value


def format_default(value: Any) -> str:
    """An option default as the user would type it (``true``, ``10``, ``auto``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_option(spec: OptionSchema, value: str) -> None:
    """Refuse ``value`` if it is not of ``spec``'s declared type (names the option)."""
    text = value.strip()
    kind = spec.option_type
    ok = True
    if kind == "int":
        try:
            int(text)
        except ValueError:
            ok = False
    elif kind == "float":
        try:
            ok = math.isfinite(float(text))
        except ValueError:
            ok = False
    elif kind == "bool":
        ok = text.lower() in TRUE_WORDS | FALSE_WORDS
    if not ok:
        raise InputError(
            "options", f"'{spec.name}' must be {TYPE_WORDS.get(kind, kind)} ({kind}), got '{value}'"
        )


def check_options(values: dict[str, str], specs: list[OptionSchema]) -> None:
    """Check every value whose option has a declared type; unknown names pass (Cloud apps
    may take options their instance does not list)."""
    by_name = {spec.name: spec for spec in specs}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is not None:
            check_option(spec, value)
