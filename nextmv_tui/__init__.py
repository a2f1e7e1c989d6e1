"""nextmv-tui: a terminal monitor for Nextmv runs, with an embedded local run service."""

__version__ = "0.1.0"
