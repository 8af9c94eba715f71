"""SIGKILL of ejabberd on the primary under live sessions: users must be on node 2 within the
seed's 10 s (goal 1 s) with no acknowledged message lost. The fault is held until on-call's
alerts have fired, so their delay is measured too."""
from harness import drill, recovery

NAME = "ejabberd-crash"
SEED = "users back on node 2 < 10 s, no message lost"
EXPECTED_ALERTS = ["HaproxyBackendServerDown", "EjabberdNodeDown"]
FAST = True


def run(row, ctx):
    rep = drill(row, ctx.watcher, ctx.alerts, fault="kill ej1 KILL", restore="start ej1")
    row.check("users back within 10 s", rep["recovered"] and row.outage_s <= 10, f"outage {row.outage_s:.3f} s")
    row.note(f"goal 1 s {'met' if row.outage_s <= 1 else 'missed'}")
    recovery(row, ctx.watcher, rep["restore_at"])
