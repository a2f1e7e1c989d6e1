"""Configuration precedence, with a temporary HOME and an explicit environment dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from nextmv_tui.cloud.config import DEFAULT_ENDPOINT, resolve_config
from nextmv_tui.cloud.errors import ConfigError

CONFIG = """\
apikey: key-default
endpoint: api.example.com
staging:
  apikey: key-staging
  endpoint: 127.0.0.1:8443
plain:
  apikey: key-plain
  endpoint: http://127.0.0.1:8080
nokey:
  endpoint: 127.0.0.1:1
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text(CONFIG)
    return tmp_path


def test_flags_win_over_everything(home: Path):
    env = {"NEXTMV_API_KEY": "env-key", "NEXTMV_ENDPOINT": "env.example.com"}
    cfg = resolve_config(api_key="flag-key", endpoint="http://localhost:9", home=home, environ=env)
    assert (cfg.api_key, cfg.endpoint, cfg.source) == ("flag-key", "http://localhost:9", "flag")


def test_env_beats_file(home: Path):
    env = {"NEXTMV_API_KEY": "env-key", "NEXTMV_ENDPOINT": "http://127.0.0.1:5/"}
    cfg = resolve_config(home=home, environ=env)
    assert cfg.api_key == "env-key"
    assert cfg.source == "NEXTMV_API_KEY"
    assert cfg.endpoint == "http://127.0.0.1:5"


def test_empty_env_counts_as_unset(home: Path):
    cfg = resolve_config(home=home, environ={"NEXTMV_API_KEY": "  ", "NEXTMV_ENDPOINT": ""})
    assert cfg.api_key == "key-default"
    assert cfg.endpoint == "https://api.example.com"
    assert cfg.source == "~/.nextmv/config.yaml"


def test_profile_from_env_and_flag_precedence(home: Path):
    cfg = resolve_config(home=home, environ={"NEXTMV_PROFILE": " staging "})
    assert (cfg.api_key, cfg.endpoint, cfg.profile) == (
        "key-staging",
        "https://127.0.0.1:8443",
        "staging",
    )
    assert cfg.source == "~/.nextmv/config.yaml [staging]"
    cfg = resolve_config(profile="plain", home=home, environ={"NEXTMV_PROFILE": "staging"})
    assert cfg.endpoint == "http://127.0.0.1:8080"
    cfg = resolve_config(home=home, environ={"NEXTMV_PROFILE": "DEFAULT"})
    assert cfg.api_key == "key-default" and cfg.profile is None


def test_env_key_with_named_profile_endpoint(home: Path):
    cfg = resolve_config(home=home, environ={"NEXTMV_PROFILE": "staging", "NEXTMV_API_KEY": "k"})
    assert (cfg.api_key, cfg.endpoint) == ("k", "https://127.0.0.1:8443")


def test_named_profile_has_no_fallback_to_default_key(home: Path):
    with pytest.raises(ConfigError, match=r"profile 'nokey'.*no 'apikey'"):
        resolve_config(profile="nokey", home=home, environ={})
    with pytest.raises(ConfigError, match="profile 'missing' does not exist"):
        resolve_config(profile="missing", home=home, environ={})


def test_no_key_anywhere_lists_the_ways(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        resolve_config(home=tmp_path, environ={})
    text = str(info.value)
    for hint in ("--api-key", "NEXTMV_API_KEY", "nextmv configuration create", "--local"):
        assert hint in text


def test_default_endpoint_when_none_configured(tmp_path: Path):
    cfg = resolve_config(api_key="k", home=tmp_path, environ={})
    assert cfg.endpoint == DEFAULT_ENDPOINT
    assert cfg.verify is True


def test_key_never_in_repr_or_messages(home: Path):
    cfg = resolve_config(api_key="s3cret-key", home=home, environ={})
    assert "s3cret-key" not in repr(cfg)
    with pytest.raises(ConfigError) as info:
        resolve_config(api_key="s3cret-key", endpoint="ftp://x", home=home, environ={})
    assert "s3cret-key" not in str(info.value)


@pytest.mark.parametrize("bad", ["ftp://host", "http://", "http://host:notaport", "http://h?x=1"])
def test_bad_endpoints_are_refused(bad: str, tmp_path: Path):
    with pytest.raises(ConfigError, match="endpoint from flag"):
        resolve_config(api_key="k", endpoint=bad, home=tmp_path, environ={})


def test_broken_yaml_names_file_and_line(tmp_path: Path):
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text("apikey: a\n  bad: [\n")
    with pytest.raises(ConfigError, match=r"config.yaml is not valid YAML at line \d+"):
        resolve_config(home=tmp_path, environ={})
    # Explicit flags do not need the file at all.
    assert resolve_config(api_key="k", endpoint="h", home=tmp_path, environ={}).api_key == "k"


def test_non_mapping_file_is_refused(tmp_path: Path):
    (tmp_path / ".nextmv").mkdir()
    (tmp_path / ".nextmv" / "config.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        resolve_config(home=tmp_path, environ={})


def test_ca_bundle_from_env(tmp_path: Path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not checked here")
    cfg = resolve_config(api_key="k", home=tmp_path, environ={"REQUESTS_CA_BUNDLE": str(bundle)})
    assert cfg.verify == str(bundle)
    cfg = resolve_config(api_key="k", home=tmp_path, environ={"SSL_CERT_FILE": str(bundle)})
    assert cfg.verify == str(bundle)
    with pytest.raises(ConfigError, match="REQUESTS_CA_BUNDLE points to"):
        resolve_config(
            api_key="k", home=tmp_path, environ={"REQUESTS_CA_BUNDLE": str(tmp_path / "no")}
        )
