"""Escaper test app: forks, the child calls setsid and forks again, the grandchild sleeps.

The grandchild is in a new session, so no signal to the run's process group reaches it. It
writes its pid to ``-pidfile`` and keeps the stderr pipe open (as a careless daemon does).
With ``-wait`` seconds the entry point itself stays alive that long (for cancel tests).
"""

import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("-pidfile", "--pidfile", required=True)
parser.add_argument("-wait", "--wait", type=float, default=0.0)
args, _ = parser.parse_known_args()
data = json.load(sys.stdin)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(args.pidfile + ".tmp", "w") as handle:
            handle.write(str(os.getpid()))
        os.replace(args.pidfile + ".tmp", args.pidfile)
        time.sleep(600)
    os._exit(0)
while not os.path.exists(args.pidfile):
    time.sleep(0.01)
with open(args.pidfile) as handle:
    print(f"daemon {handle.read()} started", file=sys.stderr, flush=True)
time.sleep(args.wait)
print(json.dumps({"echo": data}))
