"""Shared helpers for the rules/ and dashboards/ tests: loading rule files and dashboards,
turning Grafana queries into plain PromQL, and finding the metric names a PromQL
expression reads. Standard library + PyYAML (Debian's python3-yaml) only.
"""
import glob
import json
import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES_DIR = os.path.join(REPO, "rules")
DASH_DIR = os.path.join(REPO, "dashboards")
RUNBOOK_DIR = os.path.join(REPO, "docs", "runbooks")

# Series Prometheus makes itself rather than scraping them.
SYNTHETIC = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
             "scrape_samples_post_metric_relabeling", "scrape_series_added"}


def rule_files():
    """rules/*.yml that are rule files (top-level `groups:`), as server/stack links them."""
    out = []
    for f in sorted(glob.glob(os.path.join(RULES_DIR, "*.yml"))):
        with open(f) as fh:
            if re.search(r"^groups:", fh.read(), re.M):
                out.append(f)
    return out


def load_rules():
    """[(file, group, rule dict)] for every rule."""
    out = []
    for f in rule_files():
        with open(f) as fh:
            doc = yaml.safe_load(fh)
        for g in doc.get("groups", []):
            for r in g.get("rules", []):
                out.append((f, g["name"], r))
    return out


def alerts():
    return [(f, g, r) for f, g, r in load_rules() if "alert" in r]


def recordings():
    return {r["record"]: r["expr"] for _, _, r in load_rules() if "record" in r}


def dashboards():
    """{file: dashboard dict} for dashboards/*.json."""
    out = {}
    for f in sorted(glob.glob(os.path.join(DASH_DIR, "*.json"))):
        with open(f) as fh:
            out[f] = json.load(fh)
    return out


def panels(dash):
    """Every panel, rows' nested panels included (rows themselves excluded)."""
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            yield from p.get("panels", [])
        else:
            yield p


def panel_queries(dash):
    """[(panel title, refId, expr)] for every Prometheus target."""
    out = []
    for p in panels(dash):
        for t in p.get("targets", []):
            out.append((p.get("title", "?"), t.get("refId", "?"), t.get("expr", "")))
    return out


# Values used to turn a Grafana query into a PromQL expression Prometheus accepts. Multi-value
# variables become a regexp matching everything, as Grafana's "All" does.
GRAFANA_VARS = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__range": "1h",
    "__range_s": "3600",
    "__interval_ms": "30000",
}


def expand_grafana(expr, variables=None):
    """Substitutes $var, ${var}, ${var:fmt} and [[var]] with concrete values: the built-in
    intervals above, and `.+`/`.*` style regexps (or the given values) for template variables."""
    variables = dict(variables or {})

    def value(name):
        if name in GRAFANA_VARS:
            return GRAFANA_VARS[name]
        return variables.get(name, ".+")

    expr = re.sub(r"\$\{(\w+)(?::\w+)?\}", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)\]\]", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\$(\w+)", lambda m: value(m.group(1)), expr)
    return expr


_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
             "and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN", "start", "end",
             # aggregation operators, which may put `by (...)`/`without (...)` before their "("
             "sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk",
             "quantile", "count_values", "group"}
_TOKEN = re.compile(r"""
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<num>0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?:ms|[smhdwy])*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<other>.)
""", re.X | re.S)


def metric_names(expr):
    """Metric names a PromQL expression selects (recording-rule names included, as they are),
    ignoring functions, keywords, label names in matchers and grouping clauses, durations."""
    names = set()
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(expr) if not m.group().isspace()]
    depth_brace = 0
    depth_bracket = 0
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "other":
            if text == "{":
                depth_brace += 1
            elif text == "}":
                depth_brace -= 1
            elif text == "[":
                depth_bracket += 1
            elif text == "]":
                depth_bracket -= 1
            i += 1
            continue
        if kind != "ident" or depth_brace or depth_bracket:
            i += 1
            continue
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if text in ("by", "without", "on", "ignoring", "group_left", "group_right") and nxt == "(":
            # skip the label list
            j = i + 2
            while j < len(tokens) and tokens[j][1] != ")":
                j += 1
            i = j + 1
            continue
        if text in _KEYWORDS or nxt == "(":
            i += 1
            continue
        names.add(text)
        i += 1
    return names


def base_metric(name):
    """The family a sample name belongs to: histogram/summary suffixes stripped."""
    return re.sub(r"_(bucket|sum|count)$", "", name)


def parse_exposition(text):
    """Sample names in a Prometheus text exposition."""
    out = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if m:
            out.add(m.group())
    return out
