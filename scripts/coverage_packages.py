"""Coverage per package (nextmv_tui/cloud, service, tui, cli) from the combined ``.coverage``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import coverage


def main() -> None:
    cov = coverage.Coverage()
    cov.load()
    data = cov.get_data()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for filename in sorted(data.measured_files()):
        path = Path(filename)
        parts = path.parts
        if "nextmv_tui" not in parts:
            continue
        rel = parts[parts.index("nextmv_tui"):]
        package = "/".join(rel[:2]) if len(rel) > 2 else rel[0]
        _, statements, _, missing, _ = cov.analysis2(filename)
        totals[package][0] += len(statements)
        totals[package][1] += len(statements) - len(missing)
    print(f"{'package':<24}{'stmts':>8}{'covered':>9}{'%':>8}")
    all_s = all_c = 0
    for package, (statements, covered) in sorted(totals.items()):
        all_s, all_c = all_s + statements, all_c + covered
        percent = 100 * covered / max(statements, 1)
        print(f"{package:<24}{statements:>8}{covered:>9}{percent:>7.1f}%")
    print(f"{'total':<24}{all_s:>8}{all_c:>9}{100 * all_c / max(all_s, 1):>7.1f}%")


if __name__ == "__main__":
    main()
