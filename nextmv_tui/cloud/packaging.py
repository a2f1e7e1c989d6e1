"""Decide how a local path is sent as a run input, before any network call.

CONTRACT SKELETON: filled by the core work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

InputKind = Literal["json", "text", "multi-file"]


@dataclass
class PackagedInput:
    """A validated input. Exactly one of ``inline`` / ``upload_path`` is set."""

    source: Path
    input_format: InputKind
    size: int  # bytes that will be sent
    inline: dict[str, Any] | None = None
    upload_path: Path | None = None  # file to PUT (may be a temporary tar.gz)
    temporary: bool = False  # upload_path is ours to delete

    @property
    def needs_upload(self) -> bool:
        return self.upload_path is not None

    def cleanup(self) -> None:
        """Delete the temporary archive, if any."""
        raise NotImplementedError


def package_input(path: Path) -> PackagedInput:
    """Validate and package ``path``; raises ``InputError`` naming the path and the reason."""
    raise NotImplementedError
