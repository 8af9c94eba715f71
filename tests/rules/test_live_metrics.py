#!/usr/bin/python3
"""Every metric a rule or a dashboard reads is exported by some component of the running
stack: a live scrape of every target Prometheus scrapes (exporters, HAProxy, probe,
Prometheus, Alertmanager) plus the probe's /probe modules. Prints, per missing metric, where
it is used; a metric exported by a component but absent from Prometheus is reported too
(a scrape configuration gap), as a warning unless STRICT_PROMETHEUS=1."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import livelib  # noqa: E402
import rulelib  # noqa: E402


def main():
    # The backup metrics (MysqlBackupTooOld) exist once the stack's backup task has run, as
    # its daily timer does in production: run it once.
    livelib.stack("backup")
    exported, errors = livelib.exported_names()
    for src, err in errors:
        print(f"WARN: could not scrape {src}: {err}")
    used = livelib.used_names()
    missing = {}
    for name, where in sorted(used.items()):
        if name in rulelib.SYNTHETIC:
            continue
        if name not in exported:
            missing[name] = where
    in_prom = set(livelib.prom_api("label/__name__/values"))
    not_scraped = sorted(n for n in used if n in exported and n not in in_prom and n not in rulelib.SYNTHETIC)

    print(f"{len(used)} metric names used by rules and dashboards; {len(exported)} sample names exported "
          f"by {len(livelib.scrape_targets())} scrape targets")
    if missing:
        families = {}
        for n in missing:
            families.setdefault(n.split("_")[0], []).append(n)
        print(f"\nMISSING: {len(missing)} metrics no component exports:")
        for fam, names in sorted(families.items()):
            print(f"  {fam}_*: {len(names)}")
            for n in names:
                uses = missing[n]
                print(f"    {n}  (used by {len(uses)}: {'; '.join(uses[:3])}{' ...' if len(uses) > 3 else ''})")
    if not_scraped:
        print(f"\nNOT IN PROMETHEUS: {len(not_scraped)} metrics exported but not scraped by the stack's Prometheus:")
        for n in not_scraped:
            print(f"    {n}  (exported by {', '.join(sorted(set(exported[n])))})")
    fail = bool(missing) or (bool(not_scraped) and os.environ.get("STRICT_PROMETHEUS") == "1")
    print(f"\n{len(used) - len(missing)} present, {len(missing)} missing, {len(not_scraped)} not scraped")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
