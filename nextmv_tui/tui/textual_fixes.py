"""Workarounds for Textual bugs that a monitor left open for hours runs into.

Each names its upstream issue, applies only while Textual still has the bug's shape, and is
checked by ``tests/tui/test_textual_fixes.py``.

``StylesCache.get_inner_outer`` (Textualize/textual#6665, open in Textual 8.2): an
``lru_cache`` on a method, so every widget's ``StylesCache`` is part of a cache key, and the
cache keeps up to 1,024 caches of removed widgets alive, with every line they ever rendered
(a ``Strip`` with its own small caches: about 15 objects a line). The monitor removes
widgets all the time (dialogs, the palette, detail sections), so after a while about 400,000
such objects are held, and every full pass of Python's cyclic collector walks them. The
result depends only on the two colours: it is cached on them alone here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache

_applied = False


def apply() -> bool:
    """Patch what is still broken (idempotent). True if the patch is in place."""
    global _applied
    if _applied:
        return True
    method = StylesCache.__dict__.get("get_inner_outer")
    original: Callable[..., Any] | None = getattr(method, "__wrapped__", None)
    if original is None or not hasattr(method, "cache_info"):
        return False  # fixed or changed upstream: leave Textual's own

    @lru_cache(1024)
    def by_colours(base_background: Any, background: Any) -> Any:
        return original(None, base_background, background)  # its body never reads self

    def get_inner_outer(self: StylesCache, base_background: Any, background: Any) -> Any:
        return by_colours(base_background, background)

    setattr(StylesCache, "get_inner_outer", get_inner_outer)  # noqa: B010 (typed as the lru wrapper)
    _applied = True
    return True
