"""Hostile test app: JSON in, JSON out; logs carry escape sequences, bidi marks and CRs.

Options: -duration SECONDS (default 0) of "tick N" lines every 0.2 s before the output.
"""

import argparse
import json
import sys
import time

LINES = [
    "plain line",
    "\x1b[31mred\x1b[0m text",
    "\x1b]52;c;aGVsbG8=\x07clipboard",
    "\x1b]0;pwned\x07title",
    "bidi \u202eevil",
    "cr\roverwrite",
]

parser = argparse.ArgumentParser()
parser.add_argument("-duration", "--duration", type=float, default=0.0)
args, _ = parser.parse_known_args()
data = json.load(sys.stdin)
for line in LINES:
    print(line, file=sys.stderr, flush=True)
deadline = time.monotonic() + args.duration
tick = 0
while time.monotonic() < deadline:
    print(f"tick {tick}", file=sys.stderr, flush=True)
    tick += 1
    time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
print(json.dumps({"echo": data, "title": "\x1b]0;pwned\x07\u202e", "statistics": {
    "result": {"value": 7}}}))
