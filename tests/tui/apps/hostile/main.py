"""Hostile test app: stderr lines and output strings full of escape sequences and markup.

With ``-fail 1`` it exits 1 after writing an escape-laden last stderr line (the run's error).
"""

import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("-fail", "--fail", type=int, default=0)
parser.add_argument("-duration", "--duration", type=float, default=0.0)
args, _ = parser.parse_known_args()
json.load(sys.stdin)
for line in (
    "\x1b]2;PWNED-TITLE\x1b\\title set?",
    "\x1b[2J\x1b[Hscreen cleared?",
    "[bold red]markup?[/] [link=https://evil.example]click[/link]",
    "bell\x07 backspace\x08 carriage\rreturn \x9b31m C1 \u202eevil bidi",
):
    print(line, file=sys.stderr, flush=True)
time.sleep(args.duration)
if args.fail:
    print("boom \x1b[31mred\x1b[0m \x1b]2;PWNED-ERROR\x1b\\", file=sys.stderr, flush=True)
    sys.exit(1)
print(json.dumps({
    "solution": {"note": "\x1b]2;PWNED-OUTPUT\x1b\\ [bold]x[/bold] \u009b2J"},
    "statistics": {"\x1b[2Jlabel": "\x1b]2;PWNED-STAT\x1b\\", "result": {"value": 1}},
}))
