"""Napper test app: JSON in, JSON out after -duration seconds; spawns a sleeping child.

stderr: "pid <pid> child <child pid>" first, then one "tick N" line per 0.2 s.
"""

import argparse
import json
import os
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("-duration", "--duration", type=float, default=1.0)
args, _ = parser.parse_known_args()
data = json.load(sys.stdin)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(f"pid {os.getpid()} child {child.pid}", file=sys.stderr, flush=True)
deadline = time.monotonic() + args.duration
tick = 0
while time.monotonic() < deadline:
    print(f"tick {tick}", file=sys.stderr, flush=True)
    tick += 1
    time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
child.kill()
child.wait()
print(json.dumps({"echo": data, "statistics": {"result": {"value": tick}}}))
