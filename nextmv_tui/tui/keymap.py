"""The user's keymap: ``keymap.yaml`` in the platform config dir, ``action id: keys``.

Example (``~/.config/nextmv-tui/keymap.yaml`` on Linux)::

    cancel_run: x           # one key
    toggle_pause: space,p   # several keys, comma-separated
    quit: ctrl+q

IDs are those of ``tui/actions.py`` (the help screen lists them). The whole file is checked
before anything is applied: an unknown ID, a key that is not a single Textual key name, or
two actions on one key refuse the file with a message that names it, and the defaults stay.
"""

from __future__ import annotations

import re
from pathlib import Path

from nextmv_tui.tui.actions import ACTIONS, BY_ID, keys_of

_KEY = re.compile(r"^[A-Za-z0-9_+\-]+$|^[^\s,]$")


class KeymapError(Exception):
    """A keymap file that cannot be used; the message names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason} — keymap not applied, default keys in use")
        self.path = path


def default_keymap_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("nextmv-tui", appauthor=False)) / "keymap.yaml"


def load_keymap(path: Path) -> dict[str, str]:
    """``{action id: "key,key"}`` from ``path``; {} when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(path, f"cannot read it ({exc})") from None
    import yaml  # only when there is a keymap: most launches have none (13 ms of imports)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise KeymapError(path, f"{where}not valid YAML") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise KeymapError(path, "expected 'action: keys' lines (a mapping)")
    keymap = {str(name): _keys(path, str(name), value) for name, value in document.items()}
    _check_clashes(path, keymap)
    return keymap


def _keys(path: Path, name: str, value: object) -> str:
    if name not in BY_ID:
        known = ", ".join(action.id for action in ACTIONS)
        raise KeymapError(path, f"unknown action {name!r} (known: {known})")
    items = value if isinstance(value, list) else str(value).split(",") if value else []
    keys = [str(item).strip() for item in items]
    if not keys or not all(_KEY.match(key) for key in keys):
        raise KeymapError(path, f"{name}: {value!r} is not a key or comma-separated keys")
    return ",".join(keys)


def _check_clashes(path: Path, keymap: dict[str, str]) -> None:
    owner: dict[str, str] = {}
    for action in ACTIONS:
        for key in keys_of(action, keymap):
            other = owner.setdefault(key, action.id)
            if other != action.id:
                raise KeymapError(path, f"{key!r} is bound to both {other} and {action.id}")
