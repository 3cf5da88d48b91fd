#!/usr/bin/env python3
"""Counts the test cases one `bazel test` run really ran, from its build
event file (--build_event_json_file) and the test.log each result names.

  count_results.py --bep FILE [--label TEXT] [--uncacheable TARGET]... TARGET...

Prints a note per target that did not simply pass, then, last, "P F S":
cases passed, failed, skipped. The rules (tests/run.sh relies on them):
- only this run's results count: a target without a test result in FILE
  (it did not build, or the run stopped first) is one failure, whatever an
  earlier test.log says;
- a target in --uncacheable (end-to-end: it depends on the host) whose
  result came from Bazel's cache is one failure;
- a log without doctest's summary line (crashed, timed out) is one failure,
  and a target whose process failed after a summary with 0 failed (a crash
  at exit, a non-zero exit) is one failure more;
- doctest's skipped cases, and cases that printed
  "prochook-test: SKIPPED <case>: <why>" (tests/testing.h SkipOrFailInCi)
  are skipped, not passed; with CI=true every skip is a failure.
"""
import argparse
import json
import os
import re
import sys
from urllib.parse import unquote, urlparse

SUMMARY = re.compile(r"^\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed\s*\|\s*(\d+) skipped",
                     re.M)
SKIPPED = re.compile(r"^prochook-test: SKIPPED (.*?): ", re.M)


def read_results(bep_path):
    """label -> the testResult of its last attempt in this run."""
    results = {}
    try:
        lines = open(bep_path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError:
        return results
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a truncated last line when Bazel was killed
        ident = event.get("id", {}).get("testResult")
        if ident is None or "testResult" not in event:
            continue
        label = ident.get("label", "")
        attempt = (ident.get("run", 1), ident.get("shard", 1), ident.get("attempt", 1))
        if label not in results or attempt >= results[label][0]:
            results[label] = (attempt, event["testResult"])
    return {label: result for label, (_, result) in results.items()}


def log_text(result):
    for output in result.get("testActionOutput", []):
        if output.get("name") == "test.log":
            uri = urlparse(output.get("uri", ""))
            if uri.scheme == "file":
                try:
                    return open(unquote(uri.path), encoding="utf-8", errors="replace").read()
                except OSError:
                    return None
    return None


def count_target(target, result, uncacheable, ci, note):
    """(passed, failed, skipped) for one target."""
    if result is None:
        note(f"{target}: no result in this run (did not build, or not run)")
        return 0, 1, 0
    cached = result.get("cachedLocally", False) or result.get("executionInfo", {}).get("cachedRemotely", False)
    if cached and target in uncacheable:
        note(f"{target}: result served from Bazel's cache, not run (end-to-end tests must run)")
        return 0, 1, 0
    status = result.get("status", "NO_STATUS")
    text = log_text(result)
    summaries = SUMMARY.findall(text or "")
    if not summaries:
        note(f"{target}: {status}, no doctest summary in its test.log (crashed, timed out or did not start)")
        return 0, 1, 0
    passed, failed, skipped = (int(n) for n in summaries[-1][1:])
    runtime_skips = sorted(set(SKIPPED.findall(text)))
    for case in runtime_skips:
        note(f"{target}: SKIPPED {case}")
    moved = min(len(runtime_skips), passed)
    passed -= moved
    skipped += moved
    if status != "PASSED" and failed == 0:
        note(f"{target}: {status} after a doctest summary of 0 failed (exit status or crash after the summary)")
        failed = 1
    if passed + failed + skipped == 0:
        note(f"{target}: no test case ran")
        failed = 1
    if ci and skipped:
        note(f"{target}: {skipped} skipped in CI (CI=true): counted as failed")
        failed += skipped
        skipped = 0
    return passed, failed, skipped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bep", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--uncacheable", action="append", default=[])
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args()
    ci = os.environ.get("CI") == "true"
    note = lambda text: print(args.label + text)
    results = read_results(args.bep)
    totals = [0, 0, 0]
    if not args.targets:
        note("no test targets to count (bazel query failed?)")
        totals[1] = 1
    for target in args.targets:
        counts = count_target(target, results.get(target), set(args.uncacheable), ci, note)
        totals = [a + b for a, b in zip(totals, counts)]
    print(*totals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
