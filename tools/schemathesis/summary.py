"""Summary of a Schemathesis run from its NDJSON event stream (scripts/schemathesis).

    summary.py REPORT_DIR [--per-operation]

Prints the number of requests by status, and how many operations reached a 2xx answer (with
`--per-operation`: the statuses of each operation, those without any 2xx first).
"""

import collections
import glob
import json
import sys

report_dir = sys.argv[1]
per_operation = "--per-operation" in sys.argv[2:]
statuses = collections.Counter()
by_operation: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
for path in glob.glob(report_dir + "/*.ndjson"):
    for line in open(path):
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        for interaction in finished["recorder"].get("interactions", {}).values():
            response = interaction.get("response")
            request = interaction.get("request") or {}
            status = response["status_code"] if response else "no answer"
            statuses[status] += 1
            label = finished["recorder"].get("label") or finished.get("label")
            if not label:
                cases = finished["recorder"].get("cases", {})
                case = cases.get(interaction.get("case_id") or "", {}) if isinstance(cases, dict) else {}
                label = (case.get("value") or {}).get("operation") or request.get("method", "?")
            by_operation[label][status] += 1

total = sum(statuses.values())
print(f"schemathesis: {total} requests; by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str)))
ok = [op for op, c in by_operation.items() if any(isinstance(s, int) and 200 <= s < 300 for s in c)]
print(f"schemathesis: {len(ok)} of {len(by_operation)} operations reached a 2xx answer")
if per_operation:
    def fmt(c):
        return ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=str))
    for op in sorted(by_operation, key=lambda op: (op in ok, op)):
        print(f"  {'2xx' if op in ok else '---'}  {op}  ({fmt(by_operation[op])})")
