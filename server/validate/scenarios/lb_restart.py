"""HAProxy itself dies and is restarted 2 s later: every session through it breaks. The
outage is what users feel; the nodes keep the sessions, so streams resume (XEP-0198)."""
from harness import drill, recovery

NAME = "lb-restart"
SEED = "(not in the seed) sessions reconnect, none lost"
EXPECTED_ALERTS = []
FAST = False


def run(row, ctx):
    rep = drill(row, ctx.watcher, ctx.alerts, fault="kill haproxy KILL", restore="start haproxy", hold=2)
    row.detection_s = None  # the balancer is the victim: nothing marks it down
    row.check("sessions reconnected", rep["recovered"], f"outage {row.outage_s:.3f} s")
    row.note(f"{rep['resumes']} stream(s) resumed, {rep['fresh_logins']} fresh login(s)")
    recovery(row, ctx.watcher, rep["restore_at"])
