"""The disk holding MariaDB 1's data fills up (a small image made and mounted by
`server/stack fault disk-full`, never the host's disk). The disk alert must fire, MariaDB must
say why writes stop, the service must go on through node 2 with nothing acknowledged lost,
and everything must recover once space is freed."""
import os

import xmppstack as s
from harness import drill, recovery

NAME = "disk-full"
SEED = "(not in the seed) alert, service via node 2, recovery"
EXPECTED_ALERTS = ["HostFilesystemAlmostFull"]
FAST = False


def run(row, ctx):
    log = os.path.join(s.RUN_DIR, "mariadb1", "error.log")
    log_size = os.path.getsize(log) if os.path.exists(log) else 0
    rep = drill(row, ctx.watcher, ctx.alerts, fault="fault disk-full on", restore="fault disk-full off",
                hold_max=480, min_hold=20)
    row.check("node with a full database disk taken out by the LB", row.detection_s is not None,
              f"after {row.detection_s} s")
    row.check("users served within 10 s", rep["recovered"] and row.outage_s <= 10, f"outage {row.outage_s:.3f} s")
    with open(log, errors="replace") as f:
        f.seek(log_size)
        tail = f.read()
    clear = [ln.strip() for ln in tail.splitlines() if "Disk full" in ln or "errno: 28" in ln or "No space" in ln]
    row.check("MariaDB logs why writes stop", bool(clear), clear[0][-160:] if clear else "nothing in error.log")
    with open(os.path.join(s.RUN_DIR, "validate", f"{NAME}-drill.log")) as f:
        resumed = [ln.split("after space")[0].split()[-2] for ln in f if "takes writes again" in ln]
    row.check("writes resume by themselves once space is freed", bool(resumed),
              f"after {int(resumed[0]) / 1000:.1f} s" if resumed else "not within 90 s")
    recovery(row, ctx.watcher, rep["restore_at"], timeout=180)
    row.check("replication running both ways after space is freed", s.replication_ok(1) and s.replication_ok(2))
