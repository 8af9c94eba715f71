#!/usr/bin/python3
"""Static checks that every alert is actionable: severity, summary and description naming
the host/instance and the value, a runbook_url pointing at an existing docs/runbooks page
that names the alert, a promtool test where it fires and one where it must not, an entry in
docs/alerting.md; and no orphan runbook. Prints every problem, exits 1 if any."""
import glob
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rulelib  # noqa: E402

SEVERITIES = {"critical", "warning", "info"}
problems = []


def bad(msg):
    problems.append(msg)


def test_cases():
    """{alertname: (fires, must_not_fire)} from rules/tests/*_test.yml."""
    cases = {}
    for f in glob.glob(os.path.join(rulelib.RULES_DIR, "tests", "*_test.yml")):
        with open(f) as fh:
            doc = yaml.safe_load(fh)
        for t in doc.get("tests", []):
            for a in t.get("alert_rule_test", []) or []:
                fires, quiet = cases.setdefault(a["alertname"], [0, 0])
                if a.get("exp_alerts"):
                    cases[a["alertname"]][0] += 1
                else:
                    cases[a["alertname"]][1] += 1
    return cases


def main():
    alerts = rulelib.alerts()
    if not alerts:
        bad("no alerts found in rules/*.yml")
    names = [r["alert"] for _, _, r in alerts]
    cases = test_cases()
    alerting_md = ""
    p = os.path.join(rulelib.REPO, "docs", "alerting.md")
    if os.path.exists(p):
        with open(p) as fh:
            alerting_md = fh.read()
    else:
        bad("docs/alerting.md is missing")
    records = rulelib.recordings()

    for f, group, r in alerts:
        name = r["alert"]
        where = f"{os.path.relpath(f, rulelib.REPO)}: {name}"
        labels = r.get("labels", {}) or {}
        ann = r.get("annotations", {}) or {}
        if labels.get("severity") not in SEVERITIES:
            bad(f"{where}: severity {labels.get('severity')!r} not one of {sorted(SEVERITIES)}")
        for key in ("summary", "description", "runbook_url"):
            if not ann.get(key):
                bad(f"{where}: annotation {key} missing")
        text = ann.get("summary", "") + " " + ann.get("description", "")
        if "$value" not in text and "| query" not in text:
            bad(f"{where}: neither summary nor description shows the value ($value or a query)")
        if not re.search(r"\$labels\.(host|instance|job)", text):
            bad(f"{where}: summary/description name no host, instance or job")
        url = ann.get("runbook_url", "")
        if url != f"docs/runbooks/{name}.md":
            bad(f"{where}: runbook_url {url!r}, expected 'docs/runbooks/{name}.md'")
        page = os.path.join(rulelib.RUNBOOK_DIR, f"{name}.md")
        if not os.path.exists(page):
            bad(f"{where}: runbook page {os.path.relpath(page, rulelib.REPO)} missing")
        else:
            with open(page) as fh:
                body = fh.read()
            if name not in body.splitlines()[0]:
                bad(f"{os.path.relpath(page, rulelib.REPO)}: first line does not name {name}")
            for section in ("## What it means", "## Check", "## Act"):
                if section not in body:
                    bad(f"{os.path.relpath(page, rulelib.REPO)}: section '{section}' missing")
        fires, quiet = cases.get(name, (0, 0))
        if not fires:
            bad(f"{where}: no promtool test case where it fires")
        if not quiet:
            bad(f"{where}: no promtool test case where it must not fire")
        if alerting_md and f"[{name}]" not in alerting_md:
            bad(f"{where}: not listed in docs/alerting.md")
        # Recording rules an alert uses must exist.
        for m in rulelib.metric_names(r["expr"]):
            if ":" in m and m not in records:
                bad(f"{where}: uses recording rule {m}, which no rule file defines")

    dup = {n for n in names if names.count(n) > 1}
    for n in sorted(dup):
        bad(f"alert {n} defined more than once")
    for page in glob.glob(os.path.join(rulelib.RUNBOOK_DIR, "*.md")):
        n = os.path.basename(page)[:-3]
        if n != "README" and n not in names:
            bad(f"{os.path.relpath(page, rulelib.REPO)}: no alert named {n} (orphan runbook)")
    for n in cases:
        if n not in names:
            bad(f"rules/tests: test for unknown alert {n}")

    for p in problems:
        print("FAIL:", p)
    print(f"{len(names)} alerts, {len(records)} recording rules checked; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
