"""Old-style app: unknown flags are an error (exit 2); echoes the argv it received."""

import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("-duration", type=int, default=5)
parser.add_argument("-seed", type=int, default=0)
args = parser.parse_args()
data = json.load(sys.stdin)
print(json.dumps({"argv": sys.argv[1:], "input": data, "statistics": {"result": {"value": 1}}}))
