#!/usr/bin/python3
"""Generates the xmppwatch Grafana dashboards (dashboards/*.json) from one description, so
every dashboard has the same datasource input, variables, links and panel defaults.

    dashboards/generate.py           write the JSON files
    dashboards/generate.py --check   exit 1 if a JSON file differs from what would be written

The JSON files are committed: they are what users import. Edit this file, not the JSON.
Grafana's dashboard schema (schemaVersion 42, Grafana 12/13) and the panel option types are
checked by tests/rules/typecheck_dashboards.sh against @grafana/schema.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_VERSION = 42
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
TAG = "xmppwatch"
FS_EXCLUDE = 'fstype!~"tmpfs|ramfs|squashfs|overlay|fuse.*|nsfs"'

# --- panels ---------------------------------------------------------------------------------


def target(expr, legend="", ref="A", instant=False, fmt=None):
    t = {"datasource": DS, "refId": ref, "expr": expr, "legendFormat": legend or "__auto",
         "editorMode": "code", "range": not instant, "instant": instant}
    if fmt:
        t["format"] = fmt
    return t


def targets(*queries, instant=False, fmt=None):
    """queries: (expr, legend) pairs; refIds A, B, C..."""
    return [target(e, l, chr(ord("A") + i), instant, fmt) for i, (e, l) in enumerate(queries)]


def thresholds(*steps):
    """steps: color, or (value, color) pairs after the base color."""
    out = [{"color": steps[0], "value": None}]
    for v, c in steps[1:]:
        out.append({"color": c, "value": v})
    return {"mode": "absolute", "steps": out}


def value_map(mapping):
    """{value: (text, color)} -> a value mapping."""
    return {"type": "value", "options": {str(k): {"text": t, "color": c, "index": i}
                                         for i, (k, (t, c)) in enumerate(mapping.items())}}


UP_DOWN = value_map({0: ("DOWN", "red"), 1: ("UP", "green")})
OK_FAIL = value_map({0: ("FAIL", "red"), 1: ("OK", "green")})
RUNNING = value_map({0: ("stopped", "red"), 1: ("running", "green")})


def timeseries(title, queries, unit="short", desc="", min=None, max=None, stack=False,
               fill=10, thresh=None, legend_calcs=("lastNotNull", "max"), draw="line", soft_max=None):
    custom = {
        "drawStyle": draw, "lineWidth": 1, "fillOpacity": fill, "gradientMode": "none",
        "showPoints": "never", "pointSize": 4, "spanNulls": False, "lineInterpolation": "linear",
        "axisPlacement": "auto", "axisLabel": "", "axisBorderShow": False, "axisCenteredZero": False,
        "axisColorMode": "text", "axisSoftMin": 0 if min is None else min,
        "barAlignment": 0, "insertNulls": False,
        "scaleDistribution": {"type": "linear"},
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        "hideFrom": {"legend": False, "tooltip": False, "viz": False},
        "thresholdsStyle": {"mode": "line" if thresh else "off"},
    }
    if soft_max is not None:  # the axis reaches at least this far, so threshold lines stay in view
        custom["axisSoftMax"] = soft_max
    defaults = {"unit": unit, "color": {"mode": "palette-classic"}, "custom": custom,
                "thresholds": thresh or thresholds("green"), "mappings": []}
    if min is not None:
        defaults["min"] = min
    if max is not None:
        defaults["max"] = max
    return {
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "legend": {"calcs": list(legend_calcs), "displayMode": "table", "placement": "bottom",
                       "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "targets": targets(*queries),
    }


def stat(title, queries, unit="short", desc="", thresh=None, mappings=None, color_mode="background",
         graph="none", text_mode="auto", decimals=None):
    defaults = {"unit": unit, "color": {"mode": "thresholds"}, "thresholds": thresh or thresholds("green"),
                "mappings": mappings or []}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat", "title": title, "description": desc, "datasource": DS,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "auto", "textMode": text_mode, "colorMode": color_mode, "graphMode": graph,
            "justifyMode": "auto", "wideLayout": True, "showPercentChange": False,
            "percentChangeColorMode": "standard",
        },
        "targets": targets(*queries),
    }


def timeline(title, queries, mappings, desc=""):
    return {
        "type": "state-timeline", "title": title, "description": desc, "datasource": DS,
        "fieldConfig": {
            "defaults": {"color": {"mode": "thresholds"}, "thresholds": thresholds("red", (1, "green")),
                         "mappings": [mappings],
                         "custom": {"fillOpacity": 80, "lineWidth": 0,
                                    "hideFrom": {"legend": False, "tooltip": False, "viz": False}}},
            "overrides": [],
        },
        "options": {
            "mergeValues": True, "showValue": "auto", "alignValue": "left", "rowHeight": 0.9,
            "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": False},
            "tooltip": {"mode": "single", "sort": "none"},
        },
        "targets": targets(*queries),
    }


def table(title, queries, desc="", hide=("Time", "Value", "__name__")):
    return {
        "type": "table", "title": title, "description": desc, "datasource": DS,
        "fieldConfig": {"defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"},
                                                "inspect": False},
                                     "color": {"mode": "thresholds"}, "thresholds": thresholds("green"),
                                     "mappings": []},
                        "overrides": []},
        "options": {"showHeader": True, "frameIndex": 0, "cellHeight": "sm"},
        "transformations": [{"id": "organize", "options": {
            "excludeByName": {h: True for h in hide}, "renameByName": {}, "indexByName": {}}}],
        "targets": targets(*queries, instant=True, fmt="table"),
    }


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


# --- variables ------------------------------------------------------------------------------


def ds_variable():
    # Named like the import input: a provisioned dashboard (no import step) resolves
    # ${DS_PROMETHEUS} through this variable; an imported one gets the chosen uid.
    return {"type": "datasource", "name": "DS_PROMETHEUS", "label": "Data source", "query": "prometheus",
            "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1,
            "regex": "", "skipUrlSync": False}


def query_variable(name, label, query, multi=False, include_all=False, all_value=None, hide=0):
    v = {"type": "query", "name": name, "label": label, "datasource": DS,
         "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "hide": hide, "includeAll": include_all, "multi": multi, "options": [],
         "refresh": 2, "regex": "", "sort": 1, "skipUrlSync": False}
    if all_value is not None:
        v["allValue"] = all_value
    if include_all:
        v["current"] = {"text": ["All"], "value": ["$__all"], "selected": True}
    return v


JOB = query_variable("job", "Job", "label_values(node_uname_info, job)")

# --- layout ----------------------------------------------------------------------------------


def layout(items):
    """items: row dicts, or (panel, width, height). Panels flow left to right, wrapping."""
    panels, x, y, h_row, pid = [], 0, 0, 0, 1
    for it in items:
        if isinstance(it, dict):  # a row
            if x:
                y += h_row
            x, h_row = 0, 0
            it = dict(it, id=pid, gridPos={"h": 1, "w": 24, "x": 0, "y": y})
            panels.append(it)
            pid += 1
            y += 1
            continue
        p, w, h = it
        if x + w > 24:
            x, y, h_row = 0, y + h_row, 0
        p = dict(p, id=pid, gridPos={"h": h, "w": w, "x": x, "y": y})
        panels.append(p)
        pid += 1
        x += w
        h_row = max(h_row, h)
    return panels


def dashboard(uid, title, desc, items, variables, tags=(), time_from="now-1h"):
    panel_types = sorted({p["type"] for p in layout(items) if p["type"] != "row"})
    names = {"timeseries": "Time series", "stat": "Stat", "state-timeline": "State timeline", "table": "Table"}
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "Prometheus that scrapes the xmppwatch exporters, HAProxy and xmpp_probe",
                      "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "__elements": {},
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "12.0.0"},
                       {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}]
                      + [{"type": "panel", "id": t, "name": names[t], "version": ""} for t in panel_types],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}, {
            "datasource": DS, "enable": True, "hide": False, "iconColor": "red", "name": "Alerts firing",
            "target": {"refId": "Anno", "expr": 'ALERTS{alertstate="firing",severity="critical"}',
                       "titleFormat": "{{alertname}}", "textFormat": "{{host}} {{instance}}",
                       "tagKeys": "severity,host", "step": "60s", "useValueForTime": False},
        }]},
        "description": desc,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [{"type": "dashboards", "title": "xmppwatch", "tags": [TAG], "asDropdown": True,
                   "includeVars": False, "keepTime": True, "targetBlank": False, "icon": "external link",
                   "tooltip": "Other xmppwatch dashboards"}],
        "liveNow": False,
        "panels": layout(items),
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [TAG, *tags],
        "templating": {"list": [ds_variable(), *variables]},
        "time": {"from": time_from, "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "",
    }


# --- the dashboards -----------------------------------------------------------------------------

def overview():
    xj = 'job=~"$job"'
    items = [
        row("Service: what users see"),
        (stat("Login probe", [('probe_success{module="login"}', "login")], mappings=[OK_FAIL],
              thresh=thresholds("red", (1, "green")),
              desc="A user logging in through the load balancer (xmpp_probe, module login)."), 4, 4),
        (stat("Message probe", [('probe_success{module="message"}', "message")], mappings=[OK_FAIL],
              thresh=thresholds("red", (1, "green")),
              desc="A message from a user on one node to a user on the other, with delivery receipt."), 4, 4),
        (stat("Probe sessions up", [("sum(xmpp_probe_failover_session_up)", "up"),
                                    ("count(xmpp_probe_failover_session_up)", "of")],
              text_mode="value_and_name", thresh=thresholds("red", (2, "green")),
              desc="The probe's continuous sessions through the LB (sender, receiver)."), 4, 4),
        (stat("Last failover outage", [("max(xmpp_probe_failover_last_outage_seconds)", "outage")], unit="s",
              thresh=thresholds("green", (5, "orange"), (10, "red")), decimals=2,
              desc="Longest of the sessions' last outages: last success before a failure to first success after it. Promise: under 10 s."), 4, 4),
        (stat("Messages lost (24 h)", [("sum(increase(xmpp_probe_failover_messages_lost_total[24h]))", "lost")],
              thresh=thresholds("green", (0.5, "red")), decimals=0,
              desc="Messages acknowledged by the server and never delivered to the probe's receiver."), 4, 4),
        (stat("Connected sessions", [("job:ejabberd_connected_sessions:sum", "{{job}}")], color_mode="value",
              graph="area", desc="Sessions on the whole ejabberd cluster."), 4, 4),
        row("Load balancer and nodes"),
        (timeline("LB backend servers", [('haproxy_server_status{state="UP"}', "{{proxy}}/{{server}}")], UP_DOWN,
                  desc="HAProxy's view of each ejabberd server (check: stream header answered with features)."), 12, 5),
        (stat("LB servers up", [("sum by (proxy) (haproxy_backend_active_servers)", "{{proxy}} active"),
                                ("sum by (proxy) (haproxy_backend_backup_servers)", "{{proxy}} backup")],
              text_mode="value_and_name", thresh=thresholds("red", (1, "green")),
              desc="Active and backup servers UP per backend."), 4, 5),
        (stat("Firing alerts", [('count(ALERTS{alertstate="firing"}) or vector(0)', "firing")],
              thresh=thresholds("green", (1, "red")), desc="Alerts firing in this Prometheus."), 8, 5),
        (timeline("ejabberd nodes", [(f"ejabberd_up{{{xj}}}", "{{host}}")], UP_DOWN,
                  desc="ejabberd API reachable from the exporter on each node's host."), 12, 5),
        (timeline("Cluster membership", [(f"ejabberd_cluster_member_up{{{xj}}}", "{{host}} sees {{member}}")], UP_DOWN,
                  desc="Members of the Mnesia cluster as each node sees them: a missing member on one side is a split."), 12, 5),
        (timeseries("Sessions per node", [(f"ejabberd_connected_sessions{{{xj}}}", "{{host}}")],
                    desc="Connected client sessions per node; after a failover they move to the survivor."), 12, 7),
        (timeseries("Messages per second per node", [
            (f"instance:ejabberd_user_stanzas_received:rate1m{{{xj}}}", "{{host}} received from users"),
            (f"instance:ejabberd_user_stanzas_sent:rate1m{{{xj}}}", "{{host}} sent to users")], unit="reqps",
            desc="User stanzas per second (mod_metrics user_send_packet / user_receive_packet)."), 12, 7),
        row("Replication (both ways)"),
        (timeline("Replication threads", [
            (f"mysql_slave_status_slave_io_running{{{xj}}}", "{{host}} IO from {{master_host}}"),
            (f"mysql_slave_status_slave_sql_running{{{xj}}}", "{{host}} SQL from {{master_host}}")], RUNNING,
            desc="Slave_IO_Running and Slave_SQL_Running on each MariaDB node."), 12, 6),
        (timeseries("Replication heartbeat lag", [
            (f"xmppwatch_replication_heartbeat_lag_seconds{{{xj}}}", "into {{host}} from server {{peer_server_id}}")],
            unit="s", thresh=thresholds("green", (30, "red")),
            desc="Age of the peer's heartbeat row on each node: the real replication lag, both directions."), 12, 6),
        row("Last validation (server/stack validate)"),
        (stat("Fault matrix: last result per scenario", [("xmppwatch_validation_scenario_pass", "{{scenario}}")],
              mappings=[OK_FAIL], thresh=thresholds("red", (1, "green")), text_mode="value_and_name",
              desc="Each scenario of the fault matrix as it ended the last time it ran on this stack "
                   "(docs/validation.md): a crash, a hang, a dead database, a partition, a full disk..."), 16, 4),
        (stat("Fault matrix: worst outage", [("max(xmppwatch_validation_scenario_outage_seconds)", "outage")],
              unit="s", thresh=thresholds("green", (3, "orange"), (10, "red")), decimals=2,
              desc="The longest user-visible outage over the scenarios' last runs. Promise: under 10 s."), 8, 4),
        row("Active alerts"),
        (table("Firing alerts", [('ALERTS{alertstate="firing"}', "")],
               desc="Alerts firing now (empty when none fires); details and silences in Alertmanager.",
               hide=("Time", "Value", "__name__", "alertstate")), 24, 6),
    ]
    return dashboard("xmppwatch-overview", "xmppwatch / Overview",
                     "The HA XMPP service at a glance: what users see, load balancer, both ejabberd nodes, "
                     "cluster, replication both ways, failover, alerts.", items, [JOB], tags=("overview",))


def node():
    sel = 'job=~"$job",instance=~"$instance"'
    items = [
        row("CPU and load"),
        (timeseries("CPU busy", [(f"instance:node_cpu_utilisation:rate1m{{{sel}}}", "{{host}}")], unit="percentunit",
                    min=0, max=1, thresh=thresholds("green", (0.9, "red")),
                    desc="Share of CPU time not idle or iowait (recording rule shared with HostHighCpuLoad)."), 12, 7),
        (timeseries("CPU by mode", [(f'avg by (host, mode) (rate(node_cpu_seconds_total{{{sel},mode!="idle"}}[$__rate_interval]))',
                                     "{{host}} {{mode}}")], unit="percentunit", stack=True, min=0,
                    desc="Average over the host's CPUs; steal = the hypervisor took it."), 12, 7),
        (timeseries("Load per CPU", [(f"instance:node_load1_per_cpu:ratio{{{sel}}}", "{{host}}")], min=0,
                    desc="1-minute load average divided by the number of CPUs."), 12, 7),
        (timeseries("Pressure (PSI)", [
            (f"rate(node_pressure_cpu_waiting_seconds_total{{{sel}}}[$__rate_interval])", "{{host}} cpu waiting"),
            (f"rate(node_pressure_memory_waiting_seconds_total{{{sel}}}[$__rate_interval])", "{{host}} memory waiting"),
            (f"rate(node_pressure_io_waiting_seconds_total{{{sel}}}[$__rate_interval])", "{{host}} io waiting")],
            unit="percentunit", min=0, desc="Share of time some task waited for CPU, memory or I/O."), 12, 7),
        row("Memory"),
        (timeseries("Memory available", [(f"instance:node_memory_available:ratio{{{sel}}}", "{{host}}")],
                    unit="percentunit", min=0, max=1, thresh=thresholds("red", (0.1, "green")),
                    desc="MemAvailable / MemTotal (HostMemoryLow fires under 10%)."), 12, 7),
        (timeseries("Memory used", [
            (f"node_memory_MemTotal_bytes{{{sel}}} - node_memory_MemAvailable_bytes{{{sel}}}", "{{host}} used"),
            (f"node_memory_MemTotal_bytes{{{sel}}}", "{{host}} total")], unit="bytes", min=0, fill=0), 12, 7),
        row("Disk and filesystems"),
        (timeseries("Filesystem used", [(f"instance_mountpoint:node_filesystem_used:ratio{{{sel}}}", "{{host}} {{mountpoint}}")],
                    unit="percentunit", min=0, max=1, thresh=thresholds("green", (0.85, "red")),
                    desc="Real filesystems only (HostFilesystemAlmostFull fires over 85%)."), 12, 7),
        (timeseries("Filesystem free", [(f"node_filesystem_avail_bytes{{{sel},{FS_EXCLUDE}}}", "{{host}} {{mountpoint}}")],
                    unit="bytes", min=0, fill=0,
                    desc="Space available to unprivileged users; a steady slope towards 0 is HostFilesystemFillingUp."), 12, 7),
        (timeseries("Disk throughput", [
            (f"rate(node_disk_read_bytes_total{{{sel}}}[$__rate_interval])", "{{host}} {{device}} read"),
            (f"rate(node_disk_written_bytes_total{{{sel}}}[$__rate_interval])", "{{host}} {{device}} written")],
            unit="Bps", min=0), 12, 7),
        (timeseries("Disk busy", [(f"rate(node_disk_io_time_seconds_total{{{sel}}}[$__rate_interval])", "{{host}} {{device}}")],
                    unit="percentunit", min=0, desc="Share of time the device had I/O in flight."), 12, 7),
        row("Network and time"),
        (timeseries("Network traffic", [
            (f"rate(node_network_receive_bytes_total{{{sel}}}[$__rate_interval])", "{{host}} {{device}} in"),
            (f"rate(node_network_transmit_bytes_total{{{sel}}}[$__rate_interval])", "{{host}} {{device}} out")],
            unit="Bps", min=0), 12, 7),
        (timeseries("Network errors and drops", [
            (f"rate(node_network_receive_errs_total{{{sel}}}[$__rate_interval]) + rate(node_network_receive_drop_total{{{sel}}}[$__rate_interval])",
             "{{host}} {{device}} in"),
            (f"rate(node_network_transmit_errs_total{{{sel}}}[$__rate_interval]) + rate(node_network_transmit_drop_total{{{sel}}}[$__rate_interval])",
             "{{host}} {{device}} out")], unit="pps", min=0), 12, 7),
        (timeseries("Clock skew against Prometheus", [(f"instance:node_time_skew_seconds:abs{{{sel}}}", "{{host}}")],
                    unit="s", min=0, thresh=thresholds("green", (0.5, "red")),
                    desc="Exporter clock outside the scrape's time window, i.e. skew against Prometheus (HostClockSkew fires over 0.5 s)."), 12, 7),
        row("Services on the host"),
        (timeseries("Service CPU", [(f"sum by (host, service) (rate(xmppwatch_service_cpu_seconds_total{{{sel}}}[$__rate_interval]))",
                                     "{{host}} {{service}}")], unit="percentunit", min=0,
                    desc="CPU of ejabberd (beam.smp), MariaDB and HAProxy processes (1 = one core)."), 12, 7),
        (timeseries("Service memory (RSS)", [(f"xmppwatch_service_resident_memory_bytes{{{sel}}}", "{{host}} {{service}}")],
                    unit="bytes", min=0, fill=0), 12, 7),
    ]
    host = query_variable("host", "Host", 'label_values(node_uname_info{job=~"$job"}, host)', multi=True,
                          include_all=True, all_value=".*")
    instance = query_variable("instance", "Instance", 'label_values(node_uname_info{job=~"$job",host=~"$host"}, instance)',
                              multi=True, include_all=True, all_value=".+")
    return dashboard("xmppwatch-node", "xmppwatch / Node",
                     "Per host: CPU, memory, disk, filesystems, network, load, pressure, clock, and the services' processes.",
                     items, [JOB, host, instance], tags=("node",))


def ejabberd():
    sel = 'job=~"$job",host=~"$node"'
    vsel = 'job=~"$job",host=~"$node",vhost=~"$vhost"'
    items = [
        row("Nodes"),
        (timeline("Node status", [(f"ejabberd_up{{{sel}}}", "{{host}} API"),
                                  (f"ejabberd_status{{{sel}}}", "{{host}} started")], UP_DOWN,
                  desc="API reachable from the exporter (ejabberd_up) and the node reporting 'started'."), 12, 5),
        (stat("Uptime", [(f"ejabberd_uptime_seconds{{{sel}}}", "{{host}}")], unit="s", color_mode="value",
              text_mode="value_and_name"), 6, 5),
        (stat("Registered users", [(f"max(ejabberd_registered_users{{{sel}}})", "accounts")], color_mode="value",
              desc="Accounts in the shared database (same on both nodes)."), 6, 5),
        row("Sessions and users"),
        (timeseries("Connected sessions per node", [(f"ejabberd_connected_sessions{{{sel}}}", "{{host}}")], min=0,
                    desc="Client sessions on each node (num_sessions)."), 12, 7),
        (timeseries("Users online", [(f'ejabberd_online_users{{{sel},scope="node"}}', "{{host}}"),
                                     (f'max(ejabberd_online_users{{{sel},scope="cluster"}})', "cluster")], min=0,
                    desc="Distinct users online per node and on the whole cluster."), 12, 7),
        row("Traffic"),
        (timeseries("Messages (user stanzas) per second", [
            (f"instance:ejabberd_user_stanzas_received:rate1m{{{sel}}}", "{{host}} from users"),
            (f"instance:ejabberd_user_stanzas_sent:rate1m{{{sel}}}", "{{host}} to users")], unit="reqps", min=0), 12, 7),
        (timeseries("Logins and logouts per second", [
            (f"sum by (host) (rate(ejabberd_c2s_logins_total{{{vsel}}}[$__rate_interval]))", "{{host}} logins"),
            (f"sum by (host) (rate(ejabberd_c2s_logouts_total{{{vsel}}}[$__rate_interval]))", "{{host}} logouts")],
            unit="reqps", min=0), 12, 7),
        (timeseries("Offline messages stored per second", [
            (f"sum by (host) (rate(ejabberd_offline_messages_stored_total{{{vsel}}}[$__rate_interval]))", "{{host}}")],
            unit="reqps", min=0, desc="Messages to users who were offline, stored for later delivery."), 12, 7),
        (timeseries("Authentication failures per second", [
            (f"sum by (host) (rate(ejabberd_auth_failures_total{{{vsel}}}[$__rate_interval]))", "{{host}}")],
            unit="reqps", min=0, thresh=thresholds("green", (1, "red")),
            desc="Rejected logins (EjabberdAuthFailuresSpike fires over 1/s for 5 minutes)."), 12, 7),
        (timeseries("Registrations and removals", [
            (f"sum by (host) (increase(ejabberd_registrations_total{{{vsel}}}[$__rate_interval]))", "{{host}} registered"),
            (f"sum by (host) (increase(ejabberd_user_removals_total{{{vsel}}}[$__rate_interval]))", "{{host}} removed")],
            min=0, draw="bars", fill=80), 12, 7),
        (timeseries("MUC rooms online", [(f"ejabberd_muc_online_rooms{{{sel}}}", "{{host}}")], min=0), 12, 7),
        row("Runtime"),
        (timeseries("Erlang processes", [(f"ejabberd_erlang_processes{{{sel}}}", "{{host}}")], min=0,
                    desc="Growing without sessions growing: a leak."), 8, 7),
        (timeseries("beam.smp CPU", [(f'sum by (host) (rate(xmppwatch_service_cpu_seconds_total{{job=~"$job",host=~"$node",service="ejabberd"}}[$__rate_interval]))',
                                      "{{host}}")], unit="percentunit", min=0), 8, 7),
        (timeseries("beam.smp memory (RSS)", [(f'xmppwatch_service_resident_memory_bytes{{job=~"$job",host=~"$node",service="ejabberd"}}',
                                               "{{host}}")], unit="bytes", min=0, fill=0), 8, 7),
        (timeseries("Exporter: ejabberd scrape errors", [
            (f"sum by (host, reason) (increase(ejabberd_scrape_errors_total{{{sel}}}[$__rate_interval]))", "{{host}} {{reason}}"),
            (f"sum by (host) (increase(ejabberd_metrics_datagrams_invalid_total{{{sel}}}[$__rate_interval]))", "{{host}} invalid datagrams")],
            min=0, draw="bars", fill=80, desc="API calls that failed and mod_metrics datagrams that could not be parsed."), 24, 6),
    ]
    nodev = query_variable("node", "Node", 'label_values(ejabberd_up{job=~"$job"}, host)', multi=True,
                           include_all=True, all_value=".*")
    vhost = query_variable("vhost", "Virtual host", 'label_values(ejabberd_c2s_logins_total{job=~"$job"}, vhost)',
                           multi=True, include_all=True, all_value=".*")
    return dashboard("xmppwatch-ejabberd", "xmppwatch / ejabberd",
                     "ejabberd cluster: node status, sessions, users online, messages, logins, offline messages, "
                     "authentication failures.", items, [JOB, nodev, vhost], tags=("ejabberd",))


def replication():
    sel = 'job=~"$job",host=~"$host"'
    items = [
        row("State"),
        (timeline("MariaDB up", [(f"mysql_up{{{sel}}}", "{{host}}")], UP_DOWN), 8, 5),
        (timeline("IO thread", [(f"mysql_slave_status_slave_io_running{{{sel}}}", "{{host}} from {{master_host}}")],
                  RUNNING, desc="Fetches the peer's binlog."), 8, 5),
        (timeline("SQL thread", [(f"mysql_slave_status_slave_sql_running{{{sel}}}", "{{host}} from {{master_host}}")],
                  RUNNING, desc="Applies the peer's changes."), 8, 5),
        row("Lag"),
        (timeseries("Heartbeat lag (real)", [
            (f"xmppwatch_replication_heartbeat_lag_seconds{{{sel}}}", "into {{host}} from server {{peer_server_id}}")],
            unit="s", min=0, thresh=thresholds("green", (30, "red")),
            desc="Age of the heartbeat row the peer writes every second, read on this node (MysqlReplicationLagHigh over 30 s)."), 12, 8),
        (timeseries("Seconds_Behind_Master", [
            (f"mysql_slave_status_seconds_behind_master{{{sel}}}", "{{host}} from {{master_host}}"),
            (f"xmppwatch_mysql_seconds_behind_master_null{{{sel}}}", "{{host}} NULL (1 = NULL)")],
            unit="s", min=0,
            desc="What MariaDB reports; absent (NULL) when a thread is stopped or reconnecting, the second series says so."), 12, 8),
        row("Errors"),
        (stat("Last IO / SQL error number", [
            (f"mysql_slave_status_last_io_errno{{{sel}}}", "{{host}} IO"),
            (f"mysql_slave_status_last_sql_errno{{{sel}}}", "{{host}} SQL")],
            text_mode="value_and_name", thresh=thresholds("green", (1, "red")), decimals=0,
            desc="0 = no error. 2003 cannot connect, 1045 access denied, 1236 binlog gone, 1062/1032 conflicting rows."), 8, 6),
        (timeseries("Relay log space", [(f"mysql_slave_status_relay_log_space{{{sel}}}", "{{host}}")], unit="bytes",
                    min=0, desc="Grows while the SQL thread is stopped or behind."), 8, 6),
        (stat("read_only", [(f"mysql_global_variables_read_only{{{sel}}}", "{{host}}")], text_mode="value_and_name",
              mappings=[value_map({0: ("read-write", "green"), 1: ("read-only", "orange")})],
              desc="Both masters of an active-active pair are expected read-write."), 8, 6),
        (timeseries("Exporter connection errors", [
            (f"sum by (host, reason) (increase(xmppwatch_mysql_connection_errors_total{{{sel}}}[$__rate_interval]))",
             "{{host}} {{reason}}")], min=0, draw="bars", fill=80,
            desc="The exporter's own failures to query MariaDB."), 24, 6),
    ]
    host = query_variable("host", "Host", 'label_values(mysql_up{job=~"$job"}, host)', multi=True,
                          include_all=True, all_value=".*")
    return dashboard("xmppwatch-replication", "xmppwatch / Replication",
                     "MariaDB master-master replication: thread state, real (heartbeat) lag, Seconds_Behind_Master, errors.",
                     items, [JOB, host], tags=("mariadb",))


def probe():
    m = 'module=~"$module"'
    items = [
        row("Probes"),
        (timeline("Probe result", [(f'probe_success{{job!="xmpp_probe_nodes",{m}}}', "{{module}}")], OK_FAIL,
                  desc="Each module at its own target, mostly the load balancer: c2s (TLS only), login, message (across nodes), "
                       "offline, mam, muc, upload, push, carbons, s2s."), 24, 5),
        (timeline("Login per node", [('probe_success{job="xmpp_probe_nodes"}', "{{node}} ({{instance}})")], OK_FAIL,
                  desc="Login on each ejabberd node directly, bypassing the load balancer (module node_login): a node the "
                       "balancer hides from users still shows here (XmppNodeLoginFailing: redundancy lost)."), 24, 4),
        (timeseries("Phase durations", [(f"probe_xmpp_duration_seconds{{{m}}}", "{{module}} {{phase}}")], unit="s", min=0,
                    desc="dns, connect, starttls, tls, auth, bind, ping; deliver/receipt (message), offline_delivery, archive."), 12, 8),
        (timeseries("Probe duration", [(f"probe_duration_seconds{{{m}}}", "{{module}}")], unit="s", min=0), 12, 8),
        (timeseries("Message round trip", [
            ('instance_module:probe_xmpp_message_round_trip_seconds:p50_10m', "{{module}} p50 (10 min)"),
            ('instance_module:probe_xmpp_message_round_trip_seconds:p95_10m', "{{module}} p95 (10 min)"),
            ('probe_xmpp_message_round_trip_seconds', "{{module}} last")], unit="s", min=0,
            thresh=thresholds("green", (1, "red")), fill=0,
            desc="Message sent to receipt received, sender and receiver on different nodes (XmppMessageRoundTripSlow: p95 over 1 s)."), 12, 8),
        (timeseries("Probe outcomes", [
            (f"sum by (module, outcome) (increase(xmpp_probe_probes_total{{{m}}}[$__rate_interval]))", "{{module}} {{outcome}}")],
            min=0, draw="bars", fill=80, stack=True, desc="How each probe ended (ok, timeout, auth_failed, ...)."), 12, 8),
        (stat("c2s certificate expires in", [('probe_ssl_earliest_cert_expiry{module="c2s"} - time()', "{{instance}}")],
              unit="s", thresh=thresholds("red", (7 * 86400, "orange"), (14 * 86400, "green")),
              desc="Earliest notAfter in the chain served on c2s (XmppCertificateExpiringSoon under 14 days)."), 6, 5),
        row("Failover (continuous sessions)"),
        (timeline("Sessions up", [("xmpp_probe_failover_session_up", "{{session}}")], UP_DOWN,
                  desc="The two continuous sessions through the LB (sender -> receiver, numbered messages every 100 ms)."), 18, 5),
        (timeseries("Failover outages", [
            ("xmpp_probe_failover_last_outage_seconds", "{{session}} last outage"),
            ("xmpp_probe_failover_last_detection_seconds", "{{session}} last detection")], unit="s", min=0,
            thresh=thresholds("green", (10, "red")), fill=0,
            desc="Last success to first success after a failure (outage), and to noticing it (detection). Promise: under 10 s."), 12, 8),
        (timeseries("Outages per hour", [
            ("sum by (session) (increase(xmpp_probe_failover_outage_seconds_count[1h]))", "{{session}} outages"),
            ('sum by (session) (increase(xmpp_probe_failover_outage_seconds_bucket{le="+Inf"}[1h])) - sum by (session) (increase(xmpp_probe_failover_outage_seconds_bucket{le="10"}[1h]))',
             "{{session}} longer than 10 s")], min=0, desc="From the outage histogram."), 12, 8),
        (timeseries("Messages lost, duplicated, delayed (1 h)", [
            ("increase(xmpp_probe_failover_messages_lost_total[1h])", "lost"),
            ("increase(xmpp_probe_failover_messages_duplicated_total[1h])", "duplicated"),
            ("increase(xmpp_probe_failover_messages_delayed_total[1h])", "delayed"),
            ("increase(xmpp_probe_failover_messages_unconfirmed_total[1h])", "unconfirmed")], min=0,
            desc="Lost = acknowledged by the server (XEP-0198) and never delivered."), 12, 8),
        (timeseries("Reconnects", [
            ("increase(xmpp_probe_failover_reconnect_attempts_total[1h])", "attempts"),
            ("increase(xmpp_probe_failover_resumes_total[1h])", "resumed (XEP-0198)"),
            ("increase(xmpp_probe_failover_fresh_logins_total[1h])", "fresh logins")], min=0), 12, 8),
    ]
    module = query_variable("module", "Module", "label_values(probe_success, module)", multi=True,
                            include_all=True, all_value=".*")
    return dashboard("xmppwatch-probe", "xmppwatch / Probe",
                     "What users see: xmpp_probe's per-phase durations, message round trip, failover outages, messages lost.",
                     items, [module], tags=("probe",))


def slo():
    """rules/slo.yml made visible: per SLO the error budget left, the burn rates the alerts read
    (with the alerts' thresholds drawn), the error ratio, and the probe's raw events behind them."""
    h = 'host=~"$host"'
    probes = f'job="xmpp_probe_modules",{h}'
    # The alerts' thresholds (SRE workbook): 1x over 3 d is a ticket, 6x over 6 h and 14.4x over 1 h page.
    burn_thresh = thresholds("green", (1, "yellow"), (6, "orange"), (14.4, "red"))

    def burn(name, label):
        sel = f'slo="{name}",{h}'
        return (timeseries(f"{label}: burn rate", [
            (f"slo:burn_rate:ratio_rate5m{{{sel}}}", "{{host}} 5m"),
            (f"slo:burn_rate:ratio_rate1h{{{sel}}}", "{{host}} 1h"),
            (f"slo:burn_rate:ratio_rate6h{{{sel}}}", "{{host}} 6h"),
            (f"slo:burn_rate:ratio_rate3d{{{sel}}}", "{{host}} 3d")],
            min=0, soft_max=16, fill=0, thresh=burn_thresh,
            desc="How many times faster than the objective allows the error budget burns (1: it lasts exactly "
                 "30 days). Pages: 1h and 5m both over 14.4, or 6h (and 30m) over 6; ticket: 3d (and 6h) over 1 "
                 "(docs/alerting.md, \"Service level objectives\")."), 12, 8)

    def budget(name, label, good_title, objective, extra):
        sel = f'slo="{name}",{h}'
        return [
            (stat(f"{label}: error budget remaining (30 d)",
                  [(f"slo:error_budget_remaining:ratio30d{{{sel}}}", "{{host}}")], unit="percentunit", decimals=1,
                  thresh=thresholds("red", (0, "orange"), (0.25, "green")),
                  desc="Share of the 30-day error budget left (slo:error_budget_remaining:ratio30d): 100 % untouched, "
                       "0 spent, below 0 overspent. It covers the history Prometheus holds: at most its retention (15 d on the stack)."),
             6, 8),
            (stat(f"{good_title} (30 d)", [(f"1 - slo:sli_error:ratio_rate30d{{{sel}}}", "{{host}}")],
                  unit="percentunit", decimals=3, thresh=thresholds("red", (objective, "green")),
                  desc=f"The SLI over the last 30 days against its objective ({objective * 100:g} %). {extra}"), 6, 8),
            burn(name, label),
        ]

    def error_ratio(name, label, what):
        sel = f'slo="{name}",{h}'
        return (timeseries(f"{label}: error ratio (SLI)", [
            (f"slo:sli_error:ratio_rate5m{{{sel}}}", "{{host}} 5m"),
            (f"slo:sli_error:ratio_rate1h{{{sel}}}", "{{host}} 1h"),
            (f"slo:sli_error:ratio_rate30d{{{sel}}}", "{{host}} 30d"),
            (f'1 - slo:objective:ratio{{slo="{name}"}}', "error budget (1 - objective)")],
            unit="percentunit", min=0, fill=0,
            desc=f"{what} Above the error budget line, the budget burns faster than it lasts."), 12, 8)

    items = [
        row("Availability: 99.5 % over 30 days"),
        *budget("availability", "Availability", "Availability", 0.995,
                "Good events: probe runs of every module of job xmpp_probe_modules that succeeded, and e2e "
                "messages delivered within their bound."),
        error_ratio("availability", "Availability",
                    "Failed probe runs and failed e2e messages (not delivered within the bound, or due while the "
                    "sender could not log in) as a share of all probe runs and e2e messages."),
        (timeseries("Availability: bad events in the last hour, by source", [
            (f"sum by (host, module) (count_over_time(probe_success{{{probes}}}[1h]) - sum_over_time(probe_success{{{probes}}}[1h]))",
             "{{host}} probe {{module}}"),
            (f"sum by (host, receiver, reason) (increase(xmpp_probe_e2e_messages_failed_total{{{h}}}[1h]))",
             "{{host}} e2e to {{receiver}} {{reason}}")], min=0, fill=0,
            desc="What eats the availability budget: failed runs per probe module and failed e2e messages per "
                 "receiver and reason over the last hour. About 104 events a minute on the stack (11 modules every "
                 "15 s, 2 e2e messages every 2 s): one module failing throughout burns about 8x."), 12, 8),
        (timeline("Probe success per module", [(f"probe_success{{{probes}}}", "{{module}}")], OK_FAIL,
                  desc="Every module of job xmpp_probe_modules, one run per scrape (15 s), through the load balancer "
                       "or at the module's own target (docs/probe.md)."), 12, 8),
        (timeseries("e2e messages per second", [
            (f"sum by (host, receiver) (rate(xmpp_probe_e2e_messages_sent_total{{{h}}}[$__rate_interval]))",
             "{{host}} to {{receiver}} sent"),
            (f"sum by (host, receiver) (rate(xmpp_probe_e2e_messages_delivered_total{{{h}}}[$__rate_interval]))",
             "{{host}} to {{receiver}} delivered"),
            (f"sum by (host, receiver, reason) (rate(xmpp_probe_e2e_messages_failed_total{{{h}}}[$__rate_interval]))",
             "{{host}} to {{receiver}} failed ({{reason}})"),
            (f"sum by (host, receiver) (rate(xmpp_probe_e2e_messages_late_total{{{h}}}[$__rate_interval]))",
             "{{host}} to {{receiver}} late"),
            (f"sum by (host, receiver) (rate(xmpp_probe_e2e_messages_duplicated_total{{{h}}}[$__rate_interval]))",
             "{{host}} to {{receiver}} duplicated")], unit="reqps", min=0, fill=0,
            desc="The continuous e2e module: a message every 2 s from a sender logged in through the load balancer "
                 "to a receiver on each node. Failed: not delivered within the bound (timeout) or due while the "
                 "sender could not log in (not_sent); late: arrived after being counted failed."), 12, 8),
        row("Latency: 99 % of deliveries within 500 ms over 30 days"),
        *budget("latency", "Latency", "Deliveries within 500 ms", 0.99,
                "Of the e2e messages delivered, the share that arrived within 500 ms."),
        error_ratio("latency", "Latency",
                    "Share of delivered e2e messages that took longer than 500 ms "
                    "(xmpp_probe_e2e_delivery_seconds, bucket le=\"0.5\")."),
        (timeseries("e2e delivery latency", [
            (f"histogram_quantile(0.5, sum by (host, receiver, le) (rate(xmpp_probe_e2e_delivery_seconds_bucket{{{h}}}[$__rate_interval])))",
             "{{host}} to {{receiver}} p50"),
            (f"histogram_quantile(0.95, sum by (host, receiver, le) (rate(xmpp_probe_e2e_delivery_seconds_bucket{{{h}}}[$__rate_interval])))",
             "{{host}} to {{receiver}} p95"),
            (f"histogram_quantile(0.99, sum by (host, receiver, le) (rate(xmpp_probe_e2e_delivery_seconds_bucket{{{h}}}[$__rate_interval])))",
             "{{host}} to {{receiver}} p99")],
            unit="s", min=0, fill=0, thresh=thresholds("green", (0.5, "red")),
            desc="Sent through the load balancer to arrival at the receiver on each node (HAProxy puts the sender "
                 "on node 1 unless node 1 was down when it logged in: the receiver on xmpp2 is then the "
                 "cross-node path). Quantiles are "
                 "interpolated within histogram buckets (0.3, 0.4, 0.5, 0.75, 1 s, ...)."), 12, 8),
        (timeline("e2e sessions", [(f"xmpp_probe_e2e_session_up{{{h}}}", "{{role}} {{session}}")], UP_DOWN,
                  desc="The e2e module's sessions: the sender through the load balancer, a receiver on each node. "
                       "While a receiver is down no messages are sent to it (the node alerts cover that node); while "
                       "the sender is down every message due counts as failed (not_sent)."), 24, 5),
    ]
    host = query_variable("host", "Probe host", "label_values(slo:sli_error:ratio_rate5m, host)", multi=True,
                          include_all=True, all_value=".*")
    return dashboard("xmppwatch-slo", "xmppwatch / SLOs",
                     "Service level objectives measured by xmpp_probe (rules/slo.yml): availability 99.5 % and 99 % of "
                     "deliveries within 500 ms over 30 days; error budget left, burn rates against the alerts' "
                     "thresholds, the error ratios and the probe's events behind them.",
                     items, [host], tags=("slo",), time_from="now-24h")


DASHBOARDS = {"overview.json": overview, "node.json": node, "ejabberd.json": ejabberd,
              "replication.json": replication, "probe.json": probe, "slo.json": slo}


def render(fn):
    return json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for name, fn in DASHBOARDS.items():
        path = os.path.join(HERE, name)
        text = render(fn)
        old = open(path).read() if os.path.exists(path) else None
        if check:
            if old != text:
                stale.append(name)
        elif old != text:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {path}")
    if stale:
        print("out of date (run dashboards/generate.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
