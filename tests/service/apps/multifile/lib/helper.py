"""Helper module copied through the ``lib/*.py`` glob."""


def shout(text: str) -> str:
    return text.upper()
