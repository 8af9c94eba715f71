#!/usr/bin/python3
"""Static checks of dashboards/*.json (the type check against @grafana/schema is
typecheck_dashboards.sh):

- the JSON is what dashboards/generate.py produces (no hand edits drifting away);
- importable: stable uid `xmppwatch-<file>`, unique uids and titles, current schemaVersion,
  datasource only as the `${DS_PROMETHEUS}` input (declared in __inputs and as a datasource
  variable), no hard-coded datasource uid, unique panel ids, panels on the 24-column grid
  without overlaps;
- every panel has at least one query and every query (panel, variable, annotation) parses:
  promtool check rules on the queries with Grafana's variables expanded;
- template variables used are defined and defined ones are used; recording rules a
  dashboard reads exist in rules/;
- provisioning YAML points at the dashboards and the datasource uid/name the dashboards expect.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rulelib  # noqa: E402

SCHEMA_VERSION = 42
DS_REF = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
problems = []


def bad(msg):
    problems.append(msg)


def promtool_parse(exprs):
    """{label: error} for expressions promtool rejects (checked together, then one by one)."""
    def check(items):
        rules = [{"record": f"q:{i}", "expr": e} for i, (_, e) in enumerate(items)]
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, f)
            path = f.name
        try:
            p = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True, timeout=60)
            return p.returncode == 0, p.stdout + p.stderr
        finally:
            os.unlink(path)
    ok, _ = check(exprs)
    if ok:
        return {}
    errors = {}
    for label, e in exprs:
        ok, out = check([(label, e)])
        if not ok:
            errors[label] = " ".join(l.strip() for l in out.splitlines() if "error" in l.lower() or "parse" in l.lower())
    return errors


def variable_names(dash):
    return {v["name"] for v in dash.get("templating", {}).get("list", [])}


def used_variables(text):
    names = set(re.findall(r"\$\{(\w+)(?::\w+)?\}", text)) | set(re.findall(r"\$(\w+)", text))
    return {n for n in names if not n.startswith("__")}


def grid_check(name, dash):
    cells = {}
    for p in dash.get("panels", []):
        g = p.get("gridPos")
        if not g:
            bad(f"{name}: panel {p.get('title')!r} has no gridPos")
            continue
        if g["x"] < 0 or g["x"] + g["w"] > 24 or g["w"] <= 0 or g["h"] <= 0:
            bad(f"{name}: panel {p.get('title')!r} outside the 24-column grid: {g}")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    bad(f"{name}: panels {cells[(x, y)]!r} and {p.get('title')!r} overlap at {x},{y}")
                    return
                cells[(x, y)] = p.get("title")


def main():
    gen = subprocess.run(["/usr/bin/python3", os.path.join(rulelib.DASH_DIR, "generate.py"), "--check"],
                         capture_output=True, text=True, timeout=60)
    if gen.returncode != 0:
        bad("dashboards/generate.py --check: " + (gen.stdout + gen.stderr).strip())

    dashboards = rulelib.dashboards()
    if len(dashboards) < 6:
        bad(f"expected the 6 dashboards (overview, node, ejabberd, replication, probe, slo), found {len(dashboards)}")
    records = rulelib.recordings()
    uids, titles = {}, {}
    exprs = []
    nqueries = 0
    for path, d in dashboards.items():
        name = os.path.basename(path)
        stem = name[:-5]
        if d.get("uid") != f"xmppwatch-{stem}":
            bad(f"{name}: uid {d.get('uid')!r}, expected stable 'xmppwatch-{stem}'")
        if len(d.get("uid", "")) > 40:
            bad(f"{name}: uid longer than Grafana's 40 characters")
        for key, seen in (("uid", uids), ("title", titles)):
            if d.get(key) in seen:
                bad(f"{name}: {key} {d.get(key)!r} also used by {seen[d.get(key)]}")
            seen[d.get(key)] = name
        if d.get("schemaVersion") != SCHEMA_VERSION:
            bad(f"{name}: schemaVersion {d.get('schemaVersion')}, current is {SCHEMA_VERSION}")
        if d.get("id") is not None:
            bad(f"{name}: id must be null in an importable dashboard")
        inputs = d.get("__inputs", [])
        if not any(i.get("name") == "DS_PROMETHEUS" and i.get("pluginId") == "prometheus" for i in inputs):
            bad(f"{name}: __inputs lacks the DS_PROMETHEUS datasource input")
        dsvars = [v for v in d.get("templating", {}).get("list", []) if v.get("type") == "datasource"]
        if not any(v["name"] == "DS_PROMETHEUS" and v.get("query") == "prometheus" for v in dsvars):
            bad(f"{name}: no datasource variable DS_PROMETHEUS (needed when provisioned without import)")
        text = open(path).read()
        for uid in set(re.findall(r'"uid":\s*"([^"]*)"', text)):
            if uid not in ("${DS_PROMETHEUS}", "-- Grafana --", d.get("uid")):
                bad(f"{name}: hard-coded uid {uid!r} (datasources must use ${{DS_PROMETHEUS}})")
        grid_check(name, d)
        ids = [p.get("id") for p in d.get("panels", [])]
        if len(ids) != len(set(ids)):
            bad(f"{name}: duplicate panel ids")
        defined = variable_names(d)
        used = set()
        for p in rulelib.panels(d):
            title = p.get("title", "?")
            if p.get("datasource") != DS_REF:
                bad(f"{name}: panel {title!r} datasource {p.get('datasource')}, expected {DS_REF}")
            tg = p.get("targets") or []
            if not tg:
                bad(f"{name}: panel {title!r} has no query")
            for t in tg:
                nqueries += 1
                e = t.get("expr", "")
                if not e.strip():
                    bad(f"{name}: panel {title!r} query {t.get('refId')} is empty")
                    continue
                if t.get("datasource") != DS_REF:
                    bad(f"{name}: panel {title!r} query {t.get('refId')} datasource {t.get('datasource')}")
                used |= used_variables(e)
                exprs.append((f"{name}: panel {title!r} query {t.get('refId')}", rulelib.expand_grafana(e)))
                for m in rulelib.metric_names(rulelib.expand_grafana(e)):
                    if ":" in m and m not in records:
                        bad(f"{name}: panel {title!r} reads recording rule {m}, not defined in rules/")
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") != "query":
                continue
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            used |= used_variables(q)
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\)\s*", q or "")
            if not m:
                bad(f"{name}: variable {v['name']}: query {q!r} is not label_values(selector, label)")
                continue
            exprs.append((f"{name}: variable {v['name']}", rulelib.expand_grafana(m.group(1))))
            if v.get("datasource") != DS_REF:
                bad(f"{name}: variable {v['name']} datasource {v.get('datasource')}")
        for a in d.get("annotations", {}).get("list", []):
            if a.get("builtIn"):
                continue
            e = (a.get("target") or {}).get("expr", "")
            if not e:
                bad(f"{name}: annotation {a.get('name')!r} has no query")
                continue
            exprs.append((f"{name}: annotation {a.get('name')!r}", rulelib.expand_grafana(e)))
        for v in sorted(used - defined):
            bad(f"{name}: query uses ${v}, which is not a template variable")
        for v in sorted(defined - used - {"DS_PROMETHEUS"}):
            bad(f"{name}: template variable {v} is defined but no query uses it")
        if not any(n in defined for n in ("job", "instance", "node", "host", "module")):
            bad(f"{name}: no job/instance/node template variable")

    for label, err in promtool_parse(exprs).items():
        bad(f"{label} does not parse: {err}")

    # Provisioning files.
    prov = os.path.join(rulelib.DASH_DIR, "provisioning")
    try:
        with open(os.path.join(prov, "dashboards.yml")) as f:
            dp = yaml.safe_load(f)
        provider = dp["providers"][0]
        if provider.get("type") != "file" or not provider.get("options", {}).get("path"):
            bad("provisioning/dashboards.yml: provider must be type file with options.path")
        with open(os.path.join(prov, "datasources.yml")) as f:
            ds = yaml.safe_load(f)
        if not any(x.get("type") == "prometheus" and x.get("isDefault") for x in ds.get("datasources", [])):
            bad("provisioning/datasources.yml: no default Prometheus datasource "
                "(provisioned dashboards resolve ${DS_PROMETHEUS} to the default)")
    except (OSError, KeyError, IndexError, TypeError) as e:
        bad(f"dashboards/provisioning: {e!r}")

    for p in problems:
        print("FAIL:", p)
    print(f"{len(dashboards)} dashboards, {nqueries} panel queries, {len(exprs)} expressions parsed; {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
