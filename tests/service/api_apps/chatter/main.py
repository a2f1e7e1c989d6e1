"""Chatter test app: -log_mb MiB of stderr lines, then a JSON output of about -output_mb MiB.

Log lines are "line N " padded to ~1 KiB; the output is {"blob": ["x" * 1 MiB, ...]}. With
-text, the output is plain text instead. -sleep seconds are spent before exiting.
"""

import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("-log_mb", "--log_mb", type=float, default=1.0)
parser.add_argument("-output_mb", "--output_mb", type=float, default=0.0)
parser.add_argument("-text", "--text", default="")
parser.add_argument("-sleep", "--sleep", type=float, default=0.0)
args, _ = parser.parse_known_args()
sys.stdin.read()
pad = "." * 1000
lines = int(args.log_mb * 1024)
err = sys.stderr
for number in range(lines):
    err.write(f"line {number} {pad}\n")
err.write(f"wrote {lines} lines\n")
err.flush()
chunk = "x" * (1024 * 1024)
out = sys.stdout
if args.text:
    for _ in range(int(args.output_mb)):
        out.write(chunk + "\n")
else:
    out.write('{"blob": [')
    for index in range(int(args.output_mb)):
        out.write(("," if index else "") + json.dumps(chunk))
    out.write("]}\n")
out.flush()
time.sleep(args.sleep)
