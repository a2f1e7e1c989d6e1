"""Spawn a grandchild (from the executor's view), print both pids to stderr, then sleep.

-ignore_term 1: both processes ignore SIGTERM (only SIGKILL ends them).
-exit_after_spawn 1: the app prints JSON and exits at once, leaving the child running.
"""

import argparse
import json
import signal
import subprocess
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("-ignore_term", default="0")
parser.add_argument("-exit_after_spawn", default="0")
args, _ = parser.parse_known_args()
ignore = args.ignore_term == "1"
code = "import signal, time\n"
if ignore:
    code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
code += "while True:\n    time.sleep(1)\n"
if ignore:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", code])
print(f"pids {child.pid}", file=sys.stderr, flush=True)
if args.exit_after_spawn == "1":
    print(json.dumps({"child": child.pid}))
    sys.exit(0)
print("started", file=sys.stderr, flush=True)
while True:
    time.sleep(1)
