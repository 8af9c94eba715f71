#!/usr/bin/python3
"""Least privilege of the running stack (issue 16, points 6 and 7):
1. every daemon the launcher started (its recorded pid, and every process below it) runs with
   no root uid (real, effective, saved, filesystem: /proc/PID/status), each as the user it
   is documented to run as;
2. no secret of the run directory (secrets/: passwords, the Erlang cookie, the MariaDB option
   files) appears in any process's command line while the stack is up, nor in the argv of any
   program the launcher executes while it re-renders every configuration (`up` on a running
   stack), creates an account and changes its password (every execve traced with strace);
3. secret files are 600 (their directory not open to others), and were never readable by
   others, not even for an instant: the launcher runs under umask 022 while strace records
   every file it creates, and each secret file's mode at creation (mode & ~umask of the
   creating process) must already be closed to group and others.
Exceptions (processes that may keep root): none."""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacklib as s  # noqa: E402

# component -> the user it must run as (docs/stack.md, "Who runs what").
EXPECTED_USER = {
    "epmd": "epmd",
    "mariadb1": "mysql", "mariadb2": "mysql",
    "ejabberd1": "ejabberd", "ejabberd2": "ejabberd", "peer": "ejabberd",
    "haproxy": "haproxy",
    "prometheus": "prometheus", "alertmanager": "prometheus", "victoria": "_victoria-metrics",
    "exporter1": "xmppwatch", "exporter2": "xmppwatch", "exporter3": "xmppwatch",
    "probe": "xmppwatch", "relay": "xmppwatch",
}
# Processes that may run as root, with the reason. Empty: nothing the stack starts keeps root.
EXCEPTIONS = {}
SECRETS = os.path.join(s.RUN_DIR, "secrets")


def uids(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:5]]
    raise AssertionError(f"pid {pid}: no Uid line")


def user_name(uid):
    import pwd  # noqa: PLC0415
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def children():
    """ppid -> [pid] of every live process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        out.setdefault(ppid, []).append(int(d))
    return out


def recorded_pids():
    pids = {}
    for comp in EXPECTED_USER:
        path = os.path.join(s.RUN_DIR, "pids", comp + ".pid")
        try:
            pid = int(open(path).read().strip())  # ejabberdN.pid is a link to ejabberd's own
        except (OSError, ValueError):
            continue
        if os.path.isdir(f"/proc/{pid}"):
            pids[comp] = pid
    return pids


def test_daemons_run_unprivileged():
    pids = recorded_pids()
    # epmd may be someone else's (then the stack neither starts nor records it); the relay
    # runs when it is built, as in this build tree.
    missing = [c for c in EXPECTED_USER if c not in pids and c != "epmd"]
    assert not missing, f"not running (no live recorded pid): {missing}"
    tree = children()
    bad = []
    for comp, pid in sorted(pids.items()):
        want = EXPECTED_USER[comp]
        todo, seen = [pid], []
        while todo:
            p = todo.pop()
            seen.append(p)
            todo.extend(tree.get(p, []))
        for p in seen:
            try:
                u = uids(p)
                comm = open(f"/proc/{p}/comm").read().strip()
            except OSError:
                continue  # exited meanwhile
            names = {user_name(x) for x in u}
            what = f"{comp} pid {p} ({comm}) Uid {u} = {sorted(names)}"
            if comp in EXCEPTIONS:
                s.say(f"exception: {what}: {EXCEPTIONS[comp]}")
                continue
            if 0 in u:
                bad.append(f"{what}: runs as root")
            elif names != {want}:
                bad.append(f"{what}: expected {want}")
        s.say(f"{comp:13} pid {pid:7} runs as {user_name(uids(pid)[1])}"
              f"{f' (+{len(seen) - 1} child processes)' if len(seen) > 1 else ''}")
    assert not bad, "\n  ".join(["daemons with the wrong user:"] + bad)


def secret_values():
    """Every secret the run directory holds: whole lines of secrets/*, and the password= of
    option files. Short strings (under 8 characters) would match by chance and are skipped."""
    out = {}
    for name in os.listdir(SECRETS):
        path = os.path.join(SECRETS, name)
        if not os.path.isfile(path):
            continue
        for line in open(path, errors="replace"):
            line = line.strip()
            m = re.match(r"password\s*=\s*(.+)", line)
            value = m.group(1).strip() if m else line
            if len(value) >= 8 and not value.startswith("["):
                out[value] = name
    assert len(out) >= 5, f"too few secrets found in {SECRETS}: {sorted(out.values())}"
    return out


def test_no_secret_in_any_command_line():
    secrets = secret_values()
    leaks = []
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        n += 1
        for value, name in secrets.items():
            if value in cmd:
                leaks.append(f"pid {d}: {cmd[:80]}... holds {name}")
    s.say(f"{n} command lines checked against {len(secrets)} secrets")
    assert not leaks, "\n  ".join(["secrets on command lines:"] + leaks)


def strace(out_prefix, *args, umask=None):
    """Runs server/stack ARGS under strace -ff (one file per process); returns CompletedProcess."""
    pre = f"umask {umask:03o}; " if umask is not None else ""
    cmd = ["bash", "-c", pre + 'exec strace -ff -qq -s 4096 -o "$0" '
           '-e trace=execve,openat,open,creat,mkdir,mkdirat,chmod,fchmod,fchmodat,umask,clone,clone3,fork,vfork '
           '"$@"', out_prefix, s.STACK, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240)


def traced_processes(prefix):
    """{pid: [lines]} of an strace -ff run."""
    out = {}
    d, base = os.path.split(prefix)
    for name in os.listdir(d):
        if name.startswith(base + "."):
            out[int(name.rsplit(".", 1)[1])] = open(os.path.join(d, name), errors="replace").read().splitlines()
    return out


def test_no_secret_on_argv_of_launcher_commands():
    """`up` on the running stack re-renders every configuration (the SQL password into
    ejabberd.yml, the Erlang cookie); `user add` registers an account; `user passwd`
    changes its password. No program they execute gets a secret in its arguments."""
    if not shutil.which("strace"):
        raise AssertionError("strace is not installed (scripts/packages/test.txt)")
    tmp = tempfile.mkdtemp(prefix="xmppwatch-argv-")
    name = "argv" + uuid.uuid4().hex[:8]
    passfile = os.path.join(tmp, "pw")
    with open(passfile, "w") as f:
        f.write("pw-" + uuid.uuid4().hex + "\n")
    os.chmod(passfile, 0o600)
    known = open(passfile).read().strip()
    # `up` must find everything running: a daemon it started would stay traced, and strace
    # would wait for it forever.
    down = [ln.split()[0] for ln in s.stack("status").stdout.splitlines()[1:] if ln.split()[1] in ("down", "stopped")]
    assert not down, f"components not running before the traced `up`: {down}"
    try:
        runs = [("up",), ("user", "add", name), ("user", "passwd", name, passfile)]
        execs = []
        for i, args in enumerate(runs):
            p = strace(os.path.join(tmp, f"t{i}"), *args)
            assert p.returncode == 0, f"server/stack {' '.join(args)} failed under strace:\n{p.stderr[-2000:]}"
        for pid, lines in traced_processes(os.path.join(tmp, "t0")).items():
            execs += [ln for ln in lines if ln.startswith("execve(")]
        for i in (1, 2):
            for pid, lines in traced_processes(os.path.join(tmp, f"t{i}")).items():
                execs += [ln for ln in lines if ln.startswith("execve(")]
        secrets = secret_values()
        secrets[known] = "the password given to user passwd"
        leaks = sorted({f"{name_}: {ln[:160]}" for ln in execs for value, name_ in secrets.items() if value in ln})
        s.say(f"{len(execs)} programs executed by up / user add / user passwd, checked against {len(secrets)} secrets")
        assert execs, "strace recorded no execve at all"
        assert not leaks, "\n  ".join(["secrets on the argv of programs the launcher ran:"] + leaks)
    finally:
        s.stack("user", "del", name, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def test_secret_files_are_600():
    st = os.stat(SECRETS)
    assert st.st_mode & 0o007 == 0, f"{SECRETS} is open to others: {oct(st.st_mode & 0o777)}"
    bad = []
    for name in os.listdir(SECRETS):
        st = os.lstat(os.path.join(SECRETS, name))
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) != 0o600:
            bad.append(f"{name}: {oct(stat.S_IMODE(st.st_mode))}")
    for path in (os.path.join(s.RUN_DIR, f"ejabberd{n}", "conf", f) for n in (1, 2) for f in ("ejabberd.yml", "vm.args", ".erlang.cookie")):
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            bad.append(f"{path}: {oct(stat.S_IMODE(os.stat(path).st_mode))}")
    assert not bad, f"secret files not 600: {bad}"


def secret_path(path):
    rel = os.path.relpath(path, s.RUN_DIR)
    if rel.startswith(".."):
        return False
    return (rel.startswith("secrets/") or re.search(r"ejabberd\d/conf/(ejabberd\.yml|vm\.args|\.erlang\.cookie)", rel) is not None
            or (re.search(r"tls/.*\.(key|pem)", rel) is not None and not is_ca_bundle(rel)))


def is_ca_bundle(rel):
    """tls/*-ca.pem (the s2s trust bundle) holds certificates only and is meant to be read by every
    server; it is public, provided it never holds a key (checked here whenever it is asked about)."""
    m = re.search(r"^(tls/[^/]*-ca\.pem)(\.tmp)?$", rel)
    if not m:
        return False
    path = os.path.join(s.RUN_DIR, m.group(1))
    if os.path.exists(path):
        with open(path) as f:
            assert "PRIVATE KEY" not in f.read(), f"{path} is a CA bundle but holds a private key"
    return True


# strace pads short calls with spaces before " = ": "umask(077)          = 022".
SYSCALL_RE = re.compile(r'^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)')


def creations(prefix, umask0):
    """[(path, effective mode, pid)] of every file created under an strace -ff run, following
    each process's umask from its parent at fork time."""
    procs = traced_processes(prefix)
    parent = {}
    for pid, lines in procs.items():
        for ln in lines:
            m = SYSCALL_RE.match(ln)
            if m and m.group(1) in ("clone", "clone3", "fork", "vfork") and m.group(3).lstrip("-").isdigit() \
                    and int(m.group(3)) > 0:
                parent[int(m.group(3))] = pid
    roots = [p for p in procs if p not in parent]
    out = []

    def walk(pid, umask):
        for ln in procs.get(pid, []):
            m = SYSCALL_RE.match(ln)
            if not m:
                continue
            call, args, ret = m.groups()
            if call == "umask":
                umask = int(args, 8)
            elif call in ("clone", "clone3", "fork", "vfork") and ret.isdigit() and int(ret) > 0:
                walk(int(ret), umask)
            elif call in ("openat", "open", "creat") and ret.isdigit() and ("O_CREAT" in args or call == "creat"):
                pm = re.search(r'"([^"]+)"', args)
                mm = re.search(r", (0\d*)$", args)
                if pm and mm:
                    path = pm.group(1)
                    if not path.startswith("/"):
                        continue
                    out.append((path, int(mm.group(1), 8) & ~umask, pid))
            elif call in ("mkdir", "mkdirat") and ret == "0":
                pm = re.search(r'"([^"]+)"', args)
                mm = re.search(r", (0\d*)$", args)
                if pm and mm and pm.group(1).startswith("/"):
                    out.append((pm.group(1) + "/", int(mm.group(1), 8) & ~umask, pid))
    for r in roots:
        walk(r, umask0)
    return out


def test_secret_files_never_world_readable():
    """Under umask 022, the launcher creates: account password files (user add), the rendered
    ejabberd.yml and the Erlang cookie file (start ej1 re-renders them), and every secret the first `up`
    creates, in a fresh run directory's secrets (the creation code paths, via the library)."""
    if not shutil.which("strace"):
        raise AssertionError("strace is not installed (scripts/packages/test.txt)")
    tmp = tempfile.mkdtemp(prefix="xmppwatch-umask-")
    name = "umask" + uuid.uuid4().hex[:8]
    try:
        made = []
        for i, args in enumerate([("user", "add", name), ("start", "ej1")]):
            p = strace(os.path.join(tmp, f"t{i}"), *args, umask=0o022)
            assert p.returncode == 0, f"server/stack {' '.join(args)} failed under strace:\n{p.stderr[-2000:]}"
            made += creations(os.path.join(tmp, f"t{i}"), 0o022)
        # The library's own creation paths in a scratch run directory: secret(), the exporter's
        # option file, render() of a template holding a secret.
        scratch = os.path.join(tmp, "run")
        script = f"""
set -euo pipefail
SERVER_DIR={s.REPO}/server
export XMPPWATCH_RUN_DIR={scratch}
. "$SERVER_DIR/lib/common.sh"; . "$SERVER_DIR/lib/mariadb.sh"
mkdir -p "$RUN_DIR"
pw=$(secret test.password)
SERVICE_USER=root write_exporter_cnf "$pw"
mkdir -p "$RUN_DIR/ejabberd1/conf"
render "$TEMPLATE_DIR/ejabberd.yml" "$RUN_DIR/ejabberd1/conf/ejabberd.yml" SQL_PASSWORD="$pw"
"""
        p = subprocess.run(["bash", "-c", f'umask 022; exec strace -ff -qq -s 4096 -o "$0" '
                            '-e trace=execve,openat,open,creat,mkdir,mkdirat,umask,clone,clone3,fork,vfork '
                            'bash -c "$1"', os.path.join(tmp, "lib"), script],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, f"library creation paths failed: {p.stderr[-2000:]}"
        real_run = s.RUN_DIR
        lib_made = creations(os.path.join(tmp, "lib"), 0o022)
        checked, bad = [], []
        for path, mode, pid in made + [(x.replace(scratch, real_run, 1), m, p_) for x, m, p_ in lib_made]:
            if not secret_path(path.rstrip("/")) and not path.rstrip("/").endswith("/secrets"):
                continue
            checked.append(path)
            if mode & 0o077 if not path.endswith("/") else mode & 0o007:
                bad.append(f"{path} created {oct(mode)} (pid {pid})")
        s.say(f"{len(checked)} secret files and directories created under umask 022, checked: "
              + ", ".join(sorted({os.path.relpath(c.rstrip('/'), real_run) for c in checked})))
        assert checked, "strace saw no secret file created"
        assert not bad, "\n  ".join(["secret files created open to others (umask 022):"] + bad)
    finally:
        s.stack("user", "del", name, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    s.run([test_daemons_run_unprivileged, test_no_secret_in_any_command_line, test_secret_files_are_600,
           test_no_secret_on_argv_of_launcher_commands, test_secret_files_never_world_readable])
