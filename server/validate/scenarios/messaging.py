"""Delivery latency with no fault: 20 s of numbered messages through the load balancer, both
sessions on the primary, then 20 s with the receiver on node 2 (cross-node)."""
from harness import drill

NAME = "messaging"
SEED = "delivery < 500 ms"
EXPECTED_ALERTS = []
FAST = True


def run(row, ctx):
    same = drill(row, ctx.watcher, ctx.alerts, module="drill", hold=20)
    sent, acked, got, lost, dup = row.sent, row.acked, row.delivered, row.lost, row.duplicated
    cross = drill(row, ctx.watcher, ctx.alerts, module="drill_crossnode", hold=20)
    row.sent, row.acked, row.delivered = sent + row.sent, acked + row.acked, got + row.delivered
    row.lost, row.duplicated = lost + row.lost, dup + row.duplicated
    row.outage_s = max(same["outage_seconds"], cross["outage_seconds"])
    for label, rep in (("same node", same), ("cross-node", cross)):
        p50, p99 = rep["delivery_p50_seconds"] * 1000, rep["delivery_p99_seconds"] * 1000
        row.note(f"{label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {rep['delivery_samples']}")
        row.check(f"{label} p99 under 500 ms", p99 < 500, f"{p99:.1f} ms")
        row.check(f"{label}: at least 150 samples", rep["delivery_samples"] >= 150, rep["delivery_samples"])
