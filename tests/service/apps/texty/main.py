"""Upper-cases stdin; input "exit N" exits with code N silently."""

import sys

text = sys.stdin.read()
if text.startswith("exit "):
    sys.exit(int(text.split()[1]))
sys.stdout.write(text.upper())
