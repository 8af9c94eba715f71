#!/usr/bin/python3
"""server/stack validate: the seed's validation table as a command. Runs the fault matrix's
scenarios against the running stack, prints one row per scenario, exits 0 only if every row
passes. See server/validate/README.md.

usage: server/stack validate [--scenario NAME]... [--fast] [--json FILE] [--markdown FILE]... [--list]
"""
import argparse
import datetime
import json
import os
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
import scenarios  # noqa: E402
import xmppstack as s  # noqa: E402

TEXTFILE_DIR = os.environ.get("XMPPWATCH_TEXTFILE_DIR") or os.path.join(s.RUN_DIR, "textfile")
STATE = os.path.join(s.RUN_DIR, "validate", "last.json")


class Context:
    def __init__(self):
        self.watcher = harness.StackWatcher()
        self.alerts = harness.AlertWatcher()


def undo_everything():
    """After an interrupted or failed scenario: no fault left in place, every component up."""
    s.stack("fault", "clear", timeout=300, check=False)
    try:
        if s.stack_healthy():
            return
    except Exception:  # noqa: BLE001 - unhealthy is what `up` is for
        pass
    s.stack("up", timeout=600, check=False)


def run_scenario(mod, ctx):
    row = harness.Row(scenario=mod.NAME, seed=mod.SEED, expected_alerts=list(mod.EXPECTED_ALERTS))
    s.say(f"== {mod.NAME}")
    try:
        s.wait_for("a healthy stack before the scenario", s.stack_healthy, 180, 1.0)
        harness.wait_alerts_clear(mod.EXPECTED_ALERTS, 180)
        row.started_at = time.time()
        mod.run(row, ctx)
        # Leave the stack as quiet as it was found: an alert still firing from this fault would
        # swallow the next fault's notification (Alertmanager repeats a firing alert only after
        # repeat_interval), in this matrix and in the tests that run after it.
        try:
            harness.wait_alerts_clear(mod.EXPECTED_ALERTS, 180)
        except AssertionError as e:
            row.check("its alerts resolved after the fault was undone", False, e)
    except Exception as e:  # noqa: BLE001 - one scenario's failure is its row's, the matrix goes on
        row.error = f"{type(e).__name__}: {e}"
        traceback.print_exc()
        undo_everything()
    return row.finish()


def fmt(v, digits=2):
    return "–" if v is None else f"{v:.{digits}f}"


def messages(r):
    if r.sent is None:
        return "–"
    return f"{r.sent}/{r.acked}/{r.delivered}/{r.lost}/{r.duplicated}"


def alerts_text(r):
    if not r.alerts and not r.expected_alerts:
        return "none expected"
    fired = ", ".join(f"{a['name']} +{a['after_s']:.0f}s" for a in r.alerts) or "none"
    missing = [n for n in r.expected_alerts if n not in {a["name"] for a in r.alerts}]
    return fired + (f"; MISSING {', '.join(missing)}" if missing else "")


def details(r):
    failed = [f"FAILED {c['what']}" + (f" ({c['detail']})" if c["detail"] else "") for c in r.checks if not c["ok"]]
    return "; ".join(failed + r.measured + ([r.error] if r.error else []))


HEADER = ("| scenario | seed expects | verdict | outage s | detection s | recovery s | "
          "msgs sent/acked/delivered/lost/dup | alerts fired (after fault) | measured |")


def markdown_table(rows):
    lines = [HEADER, "|" + "---|" * 9]
    for r in rows:
        lines.append(f"| `{r.scenario}` | {r.seed} | **{r.verdict.upper()}** | {fmt(r.outage_s)} | {fmt(r.detection_s)} | "
                     f"{fmt(r.recovery_s, 1)} | {messages(r)} | {alerts_text(r)} | {details(r)} |")
    return "\n".join(lines)


def print_table(rows):
    print(f"\n{'scenario':16} {'verdict':7} {'outage':>8} {'detect':>7} {'recover':>8}  {'msgs s/a/d/l/dup':22} alerts")
    for r in rows:
        print(f"{r.scenario:16} {r.verdict.upper():7} {fmt(r.outage_s):>8} {fmt(r.detection_s):>7} "
              f"{fmt(r.recovery_s, 1):>8}  {messages(r):22} {alerts_text(r)}")
        d = details(r)
        if d:
            print(f"{'':16} {d}")


def merged_state(rows):
    """The newest result of every scenario ever run in this run directory."""
    state = {}
    if os.path.exists(STATE):
        with open(STATE) as f:
            state = json.load(f)
    for r in rows:
        state[r.scenario] = r.to_json()
    os.makedirs(os.path.dirname(STATE), exist_ok=True)
    with open(STATE + ".tmp", "w") as f:
        json.dump(state, f, indent=1)
    os.replace(STATE + ".tmp", STATE)
    return state


def write_textfile(state):
    """The last results as metrics for the exporter's textfile collector (dashboard panel
    "last validation"); written under a hidden name and renamed, so no scrape sees half of it."""
    os.makedirs(TEXTFILE_DIR, exist_ok=True)
    out = []

    def family(name, help_text, typ="gauge"):
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} {typ}")
    family("xmppwatch_validation_scenario_pass", "1 if the scenario passed in its last run of server/stack validate.")
    out += [f'xmppwatch_validation_scenario_pass{{scenario="{n}"}} {int(r["verdict"] == "pass")}' for n, r in state.items()]
    family("xmppwatch_validation_scenario_timestamp_seconds", "Unix time the scenario last ran.")
    out += [f'xmppwatch_validation_scenario_timestamp_seconds{{scenario="{n}"}} {r["started_at"]:.0f}' for n, r in state.items()]
    for key, help_text in (("outage_s", "User-visible outage in the scenario's last run."),
                           ("detection_s", "Fault to the load balancer marking the server down, last run."),
                           ("recovery_s", "Fault undone to the whole stack healthy again, last run.")):
        name = f"xmppwatch_validation_scenario_{key[:-2]}_seconds"
        family(name, help_text)
        out += [f'{name}{{scenario="{n}"}} {r[key]}' for n, r in state.items() if r.get(key) is not None]
    family("xmppwatch_validation_scenario_messages", "Messages of the scenario's last run, by what became of them.")
    for n, r in state.items():
        for kind, key in (("sent", "sent"), ("acked", "acked"), ("delivered", "delivered"), ("lost", "lost"),
                          ("duplicated", "duplicated")):
            if r.get(key) is not None:
                out.append(f'xmppwatch_validation_scenario_messages{{scenario="{n}",kind="{kind}"}} {r[key]}')
    tmp = os.path.join(TEXTFILE_DIR, ".validation.prom.tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, os.path.join(TEXTFILE_DIR, "validation.prom"))


def write_markdown(path, rows, started):
    """Replaces the block between the validation markers of `path` with this run's table."""
    start, end = "<!-- validation:start -->", "<!-- validation:end -->"
    with open(path) as f:
        text = f.read()
    if start not in text or end not in text:
        raise SystemExit(f"validate: {path} has no {start} ... {end} block to fill")
    when = datetime.datetime.fromtimestamp(started, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    passed = sum(r.verdict == "pass" for r in rows)
    block = (f"{start}\nMeasured {when} by `server/stack validate` on the project's 2-core machine: "
             f"{passed} of {len(rows)} scenarios passed.\n\n{markdown_table(rows)}\n{end}")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    with open(path, "w") as f:
        f.write(before + block + after)


def _interrupted(*_):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(prog="server/stack validate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", action="append", default=[], metavar="NAME",
                    help="run only this scenario (repeatable); default: all")
    ap.add_argument("--fast", action="store_true", help="only the scenarios make test runs")
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--markdown", action="append", default=[], metavar="FILE",
                    help="replace the <!-- validation:start/end --> block of FILE with the table")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = ap.parse_args()
    if args.list:
        for m in scenarios.ALL:
            print(f"{m.NAME:16} {'fast ' if m.FAST else 'slow '} {m.SEED}")
        return 0
    unknown = [n for n in args.scenario if n not in scenarios.BY_NAME]
    if unknown:
        print(f"validate: unknown scenario(s) {', '.join(unknown)}; known: {', '.join(scenarios.BY_NAME)}", file=sys.stderr)
        return 2
    chosen = [m for m in scenarios.ALL if (not args.scenario or m.NAME in args.scenario) and (not args.fast or m.FAST)]
    if not os.access(harness.PROBE, os.X_OK):
        print(f"validate: {harness.PROBE} is not built (make build)", file=sys.stderr)
        return 2
    # SIGTERM (a CI timeout) takes the same way out as ^C: faults undone, stack brought back.
    signal.signal(signal.SIGTERM, _interrupted)
    started = time.time()
    ctx = Context()
    ctx.watcher.start()
    ctx.alerts.start()
    rows = []
    try:
        for m in chosen:
            rows.append(run_scenario(m, ctx))
            r = rows[-1]
            s.say(f"{r.scenario}: {r.verdict.upper()} ({r.duration_s:.0f} s) {details(r)}")
    except KeyboardInterrupt:
        print("validate: interrupted; undoing faults", file=sys.stderr)
        undo_everything()
        raise
    finally:
        ctx.watcher.stop()
        ctx.alerts.stop()
    print_table(rows)
    state = merged_state(rows)
    write_textfile(state)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"started_at": started, "scenarios": [r.to_json() for r in rows]}, f, indent=1)
    for path in args.markdown:
        write_markdown(path, rows, started)
    return 0 if rows and all(r.verdict == "pass" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
