"""API key and endpoint resolution, compatible with the official Nextmv SDK/CLI 1.13.

CONTRACT SKELETON: filled by the core work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ENDPOINT = "https://api.cloud.nextmv.io"


@dataclass(frozen=True)
class ClientConfig:
    """Where to talk and with what key. ``repr`` never shows the key."""

    endpoint: str
    api_key: str = field(repr=False)
    profile: str | None = None
    source: str = ""  # e.g. "flag", "NEXTMV_API_KEY", "~/.nextmv/config.yaml [staging]"
    verify: bool | str = True  # TLS verification: False, True or a CA bundle path


def resolve_config(
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    profile: str | None = None,
    home: Path | None = None,
    environ: dict[str, str] | None = None,
) -> ClientConfig:
    """Flags, then env vars, then NEXTMV_PROFILE / profile, then ~/.nextmv/config.yaml."""
    raise NotImplementedError
