"""API key and endpoint resolution, compatible with the official Nextmv SDK/CLI 1.13.

Precedence (explicit flags always win, so a ``--profile`` flag beats ``NEXTMV_PROFILE``):

- API key: ``api_key`` flag, ``NEXTMV_API_KEY``, the selected named profile's ``apikey``
  (no fallback to the default profile, like the SDK), the top-level ``apikey``.
- Endpoint: ``endpoint`` flag, ``NEXTMV_ENDPOINT``, the named profile's ``endpoint``, the
  top-level ``endpoint``, then ``https://api.cloud.nextmv.io``.
- Profile: ``profile`` flag, ``NEXTMV_PROFILE``; empty or ``default`` means the top level.

Endpoints without a scheme get ``https://``; ``http://`` is accepted everywhere (the SDK
refuses it from the config file; we are more tolerant). TLS verification honours
``REQUESTS_CA_BUNDLE`` / ``SSL_CERT_FILE`` like the SDK's ``requests`` does.
The key never appears in any message or ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from nextmv_tui.cloud.errors import ConfigError

DEFAULT_ENDPOINT = "https://api.cloud.nextmv.io"
CONFIG_RELATIVE = Path(".nextmv") / "config.yaml"
RESERVED_PROFILE_NAMES = frozenset(
    {"apikey", "endpoint", "auth_type", "auth_session", "team_id", "system_certs",
     "sso_domain", "default"}
)
CA_BUNDLE_VARS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")

NO_KEY_MESSAGE = (
    "no Nextmv API key found: pass --api-key, set NEXTMV_API_KEY, create "
    "~/.nextmv/config.yaml with `nextmv configuration create --api-key KEY`, "
    "or run the local service with `nextmv-tui --local`"
)


class ClientConfig(msgspec.Struct, frozen=True):
    """Where to talk and with what key. ``repr`` never shows the key."""

    endpoint: str
    api_key: str
    profile: str | None = None
    source: str = ""  # e.g. "flag", "NEXTMV_API_KEY", "~/.nextmv/config.yaml [staging]"
    verify: bool | str = True  # TLS verification: False, True or a CA bundle path

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        """Every field but the key (rich and Textual's log use this)."""
        return [("endpoint", self.endpoint), ("profile", self.profile),
                ("source", self.source), ("verify", self.verify)]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"ClientConfig({fields})"


def resolve_config(
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    profile: str | None = None,
    home: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Flags, then env vars, then NEXTMV_PROFILE / profile, then ~/.nextmv/config.yaml."""
    env = os.environ if environ is None else environ
    config_path = (Path.home() if home is None else home) / CONFIG_RELATIVE
    profile_name = _profile_name(profile, env)

    key, key_source = _clean(api_key), "flag"
    if key is None:
        key, key_source = _clean(env.get("NEXTMV_API_KEY")), "NEXTMV_API_KEY"
    url, url_source = _clean(endpoint), "flag"
    if url is None:
        url, url_source = _clean(env.get("NEXTMV_ENDPOINT")), "NEXTMV_ENDPOINT"

    # The file is read only when it is needed, so a broken file never blocks explicit flags.
    if key is None or url is None:
        section, label = _file_section(config_path, profile_name)
        if key is None:
            key, key_source = _clean(_str_value(section, "apikey", label)), label
        if url is None:
            url, url_source = _clean(_str_value(section, "endpoint", label)), label

    if key is None:
        if profile_name is not None:
            raise ConfigError(f"profile '{profile_name}' in {config_path} has no 'apikey'")
        raise ConfigError(NO_KEY_MESSAGE)
    return ClientConfig(
        endpoint=normalize_endpoint(url or DEFAULT_ENDPOINT, url_source if url else "default"),
        api_key=key,
        profile=profile_name,
        source=key_source,
        verify=_verify(env),
    )


def read_key_file(path: Path) -> str:
    """The API key kept in ``path`` (``--api-key-file``): its content, whitespace stripped.

    Raises ``ConfigError`` naming the file when it is missing, unreadable or empty; the key
    itself is never part of a message.
    """
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"API key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot read API key file {path}: {reason}") from None
    key = text.strip()
    if not key or len(key.split()) != 1:
        raise ConfigError(f"API key file {path} must hold the key alone on one line")
    return key


def normalize_endpoint(value: str, source: str = "endpoint") -> str:
    """Add ``https://`` when there is no scheme, drop trailing slashes, check the host."""
    text = value.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"endpoint from {source} must use http:// or https://: {value!r}")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if not parts.hostname or port == -1 or parts.query or parts.fragment:
        raise ConfigError(f"endpoint from {source} is not a valid URL: {value!r}")
    return text.rstrip("/")


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _profile_name(flag: str | None, env: Mapping[str, str]) -> str | None:
    for candidate in (flag, env.get("NEXTMV_PROFILE")):
        name = _clean(candidate)
        if name is not None:
            return None if name.lower() == "default" else name
    return None


def _file_section(path: Path, profile: str | None) -> tuple[Mapping[str, Any], str]:
    """The mapping for ``profile`` (top level when None) and a label naming where it is."""
    label = "~/.nextmv/config.yaml"
    data = _load_file(path)
    if profile is None:
        return data, label
    if profile in RESERVED_PROFILE_NAMES:
        raise ConfigError(f"'{profile}' is a reserved name, not a profile in {path}")
    section = data.get(profile)
    if section is None:
        where = f"{path}" if data or path.exists() else f"{path} (file does not exist)"
        raise ConfigError(f"profile '{profile}' does not exist in {where}")
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: profile '{profile}' must be a mapping of keys")
    return section, f"{label} [{profile}]"


def _load_file(path: Path) -> Mapping[str, Any]:
    import yaml  # only when there is a file: launch with flags or env pays nothing for it

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc.__class__.__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} must be a YAML mapping, not {type(data).__name__}")
    return data


def _str_value(section: Mapping[str, Any], key: str, label: str) -> str | None:
    value = section.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and key == "endpoint":
        return str(value)
    raise ConfigError(f"{label}: '{key}' must be a string")


def _verify(env: Mapping[str, str]) -> bool | str:
    for var in CA_BUNDLE_VARS:
        bundle = _clean(env.get(var))
        if bundle is not None:
            if not Path(bundle).is_file():
                raise ConfigError(f"{var} points to {bundle}, which is not a file")
            return bundle
    return True


# --- profiles, for switching in the monitor ----------------------------------------------


class ProfileInfo(msgspec.Struct, frozen=True):
    """A profile of ``~/.nextmv/config.yaml`` as a picker shows it: never its key."""

    name: str | None
    """None: the default (top-level) profile."""
    endpoint: str
    has_key: bool

    @property
    def label(self) -> str:
        return self.name or "default"


def config_path(home: Path | None = None) -> Path:
    return (Path.home() if home is None else home) / CONFIG_RELATIVE


def list_profiles(home: Path | None = None) -> list[ProfileInfo]:
    """The default profile (when the file has top-level keys) and every named profile.

    Raises ``ConfigError`` for a file that cannot be read or parsed."""
    data = _load_file(config_path(home))
    found: list[ProfileInfo] = []
    if data.get("apikey") is not None or data.get("endpoint") is not None:
        found.append(_profile_info(None, data))
    for name, section in data.items():
        if isinstance(section, Mapping) and str(name) not in RESERVED_PROFILE_NAMES:
            found.append(_profile_info(str(name), section))
    return found


def _profile_info(name: str | None, section: Mapping[str, Any]) -> ProfileInfo:
    raw = section.get("endpoint")
    try:
        endpoint = normalize_endpoint(str(raw)) if raw else DEFAULT_ENDPOINT
    except ConfigError:
        endpoint = f"(invalid endpoint {str(raw)[:60]!r})"
    key = section.get("apikey")
    return ProfileInfo(name, endpoint, isinstance(key, str) and bool(key.strip()))


def profile_config(
    name: str | None, home: Path | None = None, environ: Mapping[str, str] | None = None
) -> ClientConfig:
    """The configuration of one profile of the file, as picked in the monitor: its own key
    and endpoint (``NEXTMV_API_KEY``/``NEXTMV_ENDPOINT`` do not override a profile the user
    chose by name); TLS trust still follows the environment."""
    env = os.environ if environ is None else environ
    path = config_path(home)
    section, label = _file_section(path, name)
    key = _clean(_str_value(section, "apikey", label))
    if key is None:
        raise ConfigError(f"profile '{name or 'default'}' in {path} has no 'apikey'")
    url = _clean(_str_value(section, "endpoint", label))
    return ClientConfig(
        endpoint=normalize_endpoint(url or DEFAULT_ENDPOINT, label if url else "default"),
        api_key=key,
        profile=name,
        source=label,
        verify=_verify(env),
    )
