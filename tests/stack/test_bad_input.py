#!/usr/bin/python3
"""Bad input: a broken configuration makes `up` fail fast and say which file, before any
daemon starts; unknown components and a missing run directory are reported, not crashed on.
Each case uses a scratch run directory, so the shared stack is not touched."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

TEMPLATES = os.path.join(s.REPO, "server", "templates")


def scratch_up(edit, expect, rules=None):
    """Runs `up` in a scratch run dir with templates changed by edit(dir); expects failure
    with `expect` in stderr, quickly, and no daemon left from that run dir."""
    with tempfile.TemporaryDirectory(prefix="xw-bad-") as tmp:
        # mkdtemp makes it 700; the daemons' users must reach the run directory inside.
        os.chmod(tmp, 0o755)
        tpl = os.path.join(tmp, "templates")
        shutil.copytree(TEMPLATES, tpl)
        edit(tpl)
        run_dir = os.path.join(tmp, "run")
        env = dict(os.environ, XMPPWATCH_TEMPLATE_DIR=tpl, XMPPWATCH_RUN_DIR=run_dir)
        if rules is not None:
            rules_dir = os.path.join(tmp, "rules")
            os.makedirs(rules_dir)
            for name, text in rules.items():
                with open(os.path.join(rules_dir, name), "w") as f:
                    f.write(text)
            env["XMPPWATCH_RULES_DIR"] = rules_dir
        t0 = time.monotonic()
        p = subprocess.run([s.STACK, "up"], env=env, capture_output=True, text=True, timeout=120)
        took = time.monotonic() - t0
        assert p.returncode != 0, f"up succeeded with a broken config:\n{p.stderr}"
        assert expect in p.stderr, f"expected {expect!r} in:\n{p.stderr}"
        assert took < 30, f"up took {took:.1f}s to fail"
        left = subprocess.run(["pgrep", "-f", run_dir + "/"], capture_output=True, text=True).stdout.split()
        assert not left, f"processes left from the failed up: {left}"
        last = p.stderr.strip().splitlines()[-1]
        s.say(f"`up` failed in {took:.1f} s: {last[:150]}")


def append(name, text):
    def edit(tpl):
        with open(os.path.join(tpl, name), "a") as f:
            f.write(text)
    return edit


def test_broken_haproxy_config():
    scratch_up(append("haproxy.cfg", "\nbackend broken\n    server x 127.0.0.2:5222 no-such-keyword\n"),
               "haproxy: configuration")


def test_broken_prometheus_config():
    scratch_up(append("prometheus.yml", "\n  - job_name: [not a string\n"), "prometheus: configuration")


def test_broken_rule_file():
    bad = "groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: rate(up[5m]\n"
    scratch_up(lambda tpl: None, "prometheus: configuration or rule files invalid", rules={"broken.yml": bad})


def test_broken_alertmanager_config():
    scratch_up(lambda tpl: None, "alertmanager: configuration invalid",
               rules={"alertmanager.yml": "route:\n  receiver: nowhere\nreceivers: []\n"})


def test_broken_ejabberd_config():
    scratch_up(append("ejabberd.yml", "\nmodules: [unclosed\n"), "is not valid YAML")


def test_unknown_component_and_missing_run_dir():
    p = s.stack("kill", "no-such-thing", check=False)
    assert p.returncode != 0 and "unknown component" in p.stderr, p.stderr
    p = s.stack("logs", "no-such-thing", check=False)
    assert p.returncode != 0 and "unknown component" in p.stderr, p.stderr
    with tempfile.TemporaryDirectory(prefix="xw-none-") as tmp:
        env = dict(os.environ, XMPPWATCH_RUN_DIR=os.path.join(tmp, "absent"))
        p = subprocess.run([s.STACK, "down"], env=env, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr
        p = subprocess.run([s.STACK, "status"], env=env, capture_output=True, text=True, timeout=30)
        assert p.returncode == 0 and "down" in p.stdout, p.stdout + p.stderr
    p = s.stack("frobnicate", check=False)
    assert p.returncode == 2 and "usage" in p.stderr


def test_shared_stack_untouched():
    s.wait_for("a healthy stack", s.stack_healthy, 20)


if __name__ == "__main__":
    s.run([test_broken_haproxy_config, test_broken_prometheus_config, test_broken_rule_file,
           test_broken_alertmanager_config, test_broken_ejabberd_config,
           test_unknown_component_and_missing_run_dir, test_shared_stack_untouched])
