"""CPU time and memory of a process tree, read from /proc (Linux).

CPU is utime+stime of every live process of the tree plus the children they already reaped
(cutime+cstime), so threads and helper processes count. RSS is the sum of VmRSS over the
tree; peak is the largest VmHWM seen (a process's own high-water mark).
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it that is alive now."""
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            found.extend(int(child) for child in children if int(child) not in found)
    return found


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid``, its live descendants and their reaped children."""
    total = 0
    for member in descendants(pid):
        fields = _stat_fields(member)
        if fields is not None:  # utime stime cutime cstime
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / TICKS


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of the tree now."""
    return sum(_status_kb(member, "VmRSS:") for member in descendants(pid)) * 1024


def tree_peak(pid: int) -> int:
    """Largest high-water mark (bytes) among the tree's live processes."""
    return max((_status_kb(member, "VmHWM:") for member in descendants(pid)), default=0) * 1024
