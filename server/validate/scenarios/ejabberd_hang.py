"""ejabberd on the primary hangs (SIGSTOP) for 20 s, then resumes (SIGCONT). The load
balancer must take it out, users must be back within 10 s (goal 3 s), and when it resumes
there must be no split state: one cluster, no ghost sessions, nothing lost."""
import xmppstack as s
from harness import drill, recovery

NAME = "ejabberd-hang"
SEED = "hung node taken out, users back < 10 s"
# Twenty seconds is shorter than any alert's `for`: a hang this short pages nobody.
EXPECTED_ALERTS = []
FAST = False


def _ghosts():
    """Sessions of the drill's accounts still listed anywhere once the drill has logged out."""
    left = []
    for user in ("alice", "bob"):
        for node in (1, 2):
            try:
                left += [f"{user}/{r}@{n}" for r, n in s.session_nodes(user, node).items() if "drill" in r]
            except Exception:  # noqa: BLE001 - a node still coming back answers later
                return ["?"]
    return left


def run(row, ctx):
    rep = drill(row, ctx.watcher, ctx.alerts, fault="kill ej1 STOP", restore="start ej1", hold=20)
    row.check("hung node taken out by the LB", row.detection_s is not None, f"after {row.detection_s} s")
    row.check("users back within 10 s", rep["recovered"] and row.outage_s <= 10, f"outage {row.outage_s:.3f} s")
    row.note(f"goal 3 s {'met' if row.outage_s <= 3 else 'missed'}")
    recovery(row, ctx.watcher, rep["restore_at"])
    row.check("one cluster after SIGCONT", s.cluster(1) == s.cluster(2) == sorted(s.NODE_NAME.values()),
              f"node 1 sees {s.cluster(1)}, node 2 sees {s.cluster(2)}")
    try:
        s.wait_for("the drill's sessions to be gone from both nodes", lambda: not _ghosts(), 30, 1.0)
        row.check("no ghost sessions after SIGCONT", True)
    except AssertionError:
        row.check("no ghost sessions after SIGCONT", False, ", ".join(_ghosts()))
