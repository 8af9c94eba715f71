"""Scraping the stack's exporters from the integration tests. Loopback only; bounded waits."""
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "stack"))
import stacklib as s  # noqa: E402,F401

EXPORTER = {1: "127.0.0.2:9100", 2: "127.0.0.3:9100", "proxy": "127.0.0.1:9100"}
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape_text(host):
    with urllib.request.urlopen(f"http://{EXPORTER[host]}/metrics", timeout=10) as r:
        assert r.status == 200, f"scrape of {host} answered {r.status}"
        return r.read().decode()


def scrape(host):
    """{(name, frozenset(labels)): value} of one scrape."""
    out = {}
    for line in scrape_text(host).splitlines():
        m = _SAMPLE.match(line)
        if not m or line.startswith("#"):
            continue
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def wait_value(host, name, ok, timeout=20.0, **labels):
    """Scrapes until value(name, labels) satisfies ok(v); returns v or raises."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = value(scrape(host), name, **labels)
        if last is not None and ok(last):
            return last
        time.sleep(0.2)
    raise AssertionError(f"{name}{labels} on exporter {host}: last value {last} after {timeout}s")
