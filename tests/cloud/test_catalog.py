"""What a submit can choose from, without a terminal: instance lists as Cloud sends them,
typed option checks, and the profiles of ``~/.nextmv/config.yaml`` (never their keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nextmv_tui.cloud.catalog import (
    InstanceList,
    OptionSchema,
    check_option,
    check_options,
)
from nextmv_tui.cloud.config import list_profiles, profile_config
from nextmv_tui.cloud.errors import ConfigError, InputError

CLOUD_INSTANCE = {
    "id": "prod", "application_id": "routing", "version_id": "v3", "name": "Production",
    "description": "", "locked": False, "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
    "configuration": {"execution_class": "6c9gb", "options": {"duration": "30", "mode": True}},
}


def test_instance_lists_parse_bare_and_paged_answers_and_ignore_unknown_fields() -> None:
    bare = InstanceList.model_validate([CLOUD_INSTANCE, {"id": "dev", "configuration": None}])
    assert [i.id for i in bare.items] == ["prod", "dev"] and bare.next_page_token is None
    assert bare.items[1].configuration.execution_class is None
    paged = InstanceList.model_validate(
        {"items": [{**CLOUD_INSTANCE, "surprise": {"x": 1}}], "next_page_token": "t2"}
    )
    assert paged.items[0].nextmv_tui is None and paged.next_page_token == "t2"
    assert InstanceList.model_validate({"items": None}).items == []


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("int", ["3", " -7 ", "+2"], ["3.5", "abc", "", "1e3"]),
        ("float", ["3", "2.5", "-1e3"], ["abc", "nan", "inf", ""]),
        ("bool", ["true", "False", "1", "0", "yes"], ["maybe", ""]),
        ("string", ["anything", ""], []),
        ("", ["abc"], []),
    ],
)
def test_option_values_are_checked_against_their_declared_type(
    kind: str, good: list[str], bad: list[str]
) -> None:
    spec = OptionSchema(name="duration", option_type=kind)
    for value in good:
        check_option(spec, value)
    for value in bad:
        with pytest.raises(InputError) as caught:
            check_option(spec, value)
        assert caught.value.path == "options"
        assert "'duration'" in str(caught.value) and f"({kind})" in str(caught.value)


def test_the_message_names_the_option_and_the_type() -> None:
    with pytest.raises(InputError) as caught:
        check_options({"seed": "1", "duration": "abc"},
                      [OptionSchema(name="duration", option_type="float"),
                       OptionSchema(name="seed", option_type="int")])
    assert str(caught.value) == "options: 'duration' must be a number (float), got 'abc'"
    check_options({"unknown": "x"}, [OptionSchema(name="duration", option_type="float")])


CONFIG = """\
apikey: sk-DEFAULT-SECRET
endpoint: api.example.com
staging:
  apikey: sk-STAGING-SECRET
  endpoint: http://127.0.0.1:8443
nokey:
  endpoint: 127.0.0.1:1
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text(CONFIG)
    return tmp_path


def test_profiles_are_listed_with_endpoints_and_never_their_keys(home: Path) -> None:
    profiles = list_profiles(home)
    assert [(p.label, p.endpoint, p.has_key) for p in profiles] == [
        ("default", "https://api.example.com", True),
        ("staging", "http://127.0.0.1:8443", True),
        ("nokey", "https://127.0.0.1:1", False),
    ]
    assert "SECRET" not in repr(profiles)


def test_a_picked_profile_uses_its_own_key_and_endpoint_over_the_environment(home: Path) -> None:
    env = {"NEXTMV_API_KEY": "sk-ENV", "NEXTMV_ENDPOINT": "http://env:1"}
    config = profile_config("staging", home, env)
    assert (config.endpoint, config.api_key, config.profile) == (
        "http://127.0.0.1:8443", "sk-STAGING-SECRET", "staging")
    assert "SECRET" not in repr(config)
    assert profile_config(None, home, env).endpoint == "https://api.example.com"
    with pytest.raises(ConfigError, match=r"'nokey'.*no 'apikey'"):
        profile_config("nokey", home, env)
    with pytest.raises(ConfigError, match="does not exist"):
        profile_config("nope", home, env)


def test_a_broken_config_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text("staging: [oops\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        list_profiles(tmp_path)
    assert list_profiles(tmp_path / "nothing-here") == []
