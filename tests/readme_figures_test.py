#!/usr/bin/env python3
"""README.md's Performance table must be the committed bench report's
headline table (bench/results/report.md, "## Headline"), row for row: the
figures README quotes come from that one run. Prints notes, then the
counter line "P F 0" that tests/run.sh adds up (one check per row, and one
for the row count)."""

import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def table_after(lines, start, header="| measure |"):
    """The table rows after line `start` whose header begins with header."""
    for i in range(start, len(lines)):
        if lines[i].startswith(header):
            rows = []
            for line in lines[i:]:
                if not line.startswith("|"):
                    break
                rows.append(line.rstrip("\n"))
            return rows
    return []


def main():
    readme = open(os.path.join(ROOT, "README.md")).read().splitlines()
    report = open(os.path.join(ROOT, "bench/results/report.md")).read().splitlines()
    perf = next((i for i, l in enumerate(readme) if l == "## Performance"), None)
    head = next((i for i, l in enumerate(report) if l.startswith("## Headline")), None)
    quoted = table_after(readme, perf) if perf is not None else []
    measured = table_after(report, head) if head is not None else []
    passed = failed = 0
    if not quoted or not measured:
        print(f"readme figures: no table in {'README.md Performance' if not quoted else 'the report Headline'}")
        print("0 1 0")
        return
    for row in quoted:
        if row in measured:
            passed += 1
        else:
            failed += 1
            print(f"readme figures: README row not in bench/results/report.md: {row}")
    if len(quoted) == len(measured):
        passed += 1
    else:
        failed += 1
        print(f"readme figures: README quotes {len(quoted)} rows, the report's headline has {len(measured)}")
    print(f"{passed} {failed} 0")


if __name__ == "__main__":
    sys.exit(main())
