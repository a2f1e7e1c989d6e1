"""Shout test app: writes its stdin upper-cased to stdout (a non-JSON output)."""

import sys

text = sys.stdin.read()
print(f"shouting {len(text)} characters", file=sys.stderr)
sys.stdout.write(text.upper())
