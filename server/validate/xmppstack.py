"""The local stack seen from a client: the launcher, MariaDB, the ejabberd API, HAProxy's
stats, and a small asyncio wrapper around slixmpp (Debian's python3-slixmpp, hence
/usr/bin/python3). Used by `server/stack validate` (the fault matrix) and by the stack's
integration tests (tests/stack/stacklib.py re-exports it).

Everything talks to 127.0.0.0/8 only. Every wait has a deadline.
"""
import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # server/validate/ -> repo
STACK = os.path.join(REPO, "server", "stack")
RUN_DIR = os.environ.get("XMPPWATCH_RUN_DIR") or os.path.join(REPO, "run")
DOMAIN = os.environ.get("XMPPWATCH_DOMAIN", "xmpp.test")
LB = ("127.0.0.1", 5222)
NODE_IP = {1: "127.0.0.2", 2: "127.0.0.3"}
NODE_NAME = {1: "ej1@127.0.0.2", 2: "ej2@127.0.0.3"}
# The federated peer server (server/lib/peer.sh).
PEER_IP = "127.0.0.4"
PEER_DOMAIN = os.environ.get("XMPPWATCH_PEER_DOMAIN", "peer.test")

# urllib honours http_proxy; a loopback API call must never leave the machine.
for _v in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_v, None)
os.environ["no_proxy"] = "*"

logging.basicConfig(level=logging.CRITICAL)


def say(msg):
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


# --- launcher ---------------------------------------------------------------------------

def stack(*args, timeout=180, check=True):
    """Runs server/stack; returns CompletedProcess (stdout+stderr captured as text)."""
    p = subprocess.run([STACK, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"server/stack {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def pid_of(component):
    path = os.path.join(RUN_DIR, "pids", component + ".pid")
    with open(path) as f:
        return int(f.read().strip())


def signal_component(component, sig):
    """Signals a component directly (not via the launcher) so the timing starts at the signal."""
    pid = pid_of(component)
    os.kill(pid, sig)
    return pid, time.monotonic()


def wait_for(what, fn, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - the condition is retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# --- MariaDB ------------------------------------------------------------------------------

def sql(node, query, timeout=10):
    sock = os.path.join(RUN_DIR, f"mariadb{node}", "mariadbd.sock")
    p = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-N", "-B", "-e", query],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"mariadb{node}: {p.stderr.strip()}")
    return p.stdout.strip()


class SqlSession:
    """One MariaDB connection as root over the node's unix socket (python3-pymysql), for loops
    that poll faster than a client process can start."""

    def __init__(self, node, timeout=5):
        import pymysql  # noqa: PLC0415 - only the matrix needs it
        self._conn = pymysql.connect(unix_socket=os.path.join(RUN_DIR, f"mariadb{node}", "mariadbd.sock"),
                                     user="root", autocommit=True, connect_timeout=timeout,
                                     read_timeout=timeout, write_timeout=timeout)

    def query(self, q):
        """First column of the first row as text ("" when none), like sql()."""
        with self._conn.cursor() as c:
            c.execute(q)
            row = c.fetchone() if c.description else None
        return "" if not row else str(row[0])

    def close(self):
        self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_running_pid(component):
    """Whether the component's recorded pid is alive (and not a zombie)."""
    try:
        with open(f"/proc/{pid_of(component)}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, ValueError):
        return False


def slave_status(node):
    sock = os.path.join(RUN_DIR, f"mariadb{node}", "mariadbd.sock")
    p = subprocess.run(["mariadb", "--no-defaults", f"--socket={sock}", "-uroot", "-B", "-e", "SHOW SLAVE STATUS\\G"],
                       capture_output=True, text=True, timeout=10)
    out = {}
    for line in p.stdout.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def replication_ok(node):
    s = slave_status(node)
    return s.get("Slave_IO_Running") == "Yes" and s.get("Slave_SQL_Running") == "Yes"


# --- ejabberd API (loopback listener, source address is the credential) --------------------

def api(node, command, body=None, timeout=3):
    req = urllib.request.Request(f"http://{NODE_IP[node]}:5280/api/{command}",
                                 data=json.dumps(body or {}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode() or "null")


def cluster(node):
    return sorted(api(node, "list_cluster"))


def session_nodes(user, node=2):
    """Nodes holding a session of user (asked of any live node: sessions are cluster-wide)."""
    sessions = api(node, "user_sessions_info", {"user": user, "host": DOMAIN})
    return {s["resource"]: s["node"] for s in sessions}


def session_node(user, resource, timeout=3.0):
    """The node serving user/resource. Session tables replicate asynchronously between the
    nodes, so a session just opened may take a moment to show up on the node asked."""
    def lookup():
        for node in (1, 2):
            try:
                found = session_nodes(user, node).get(resource)
            except Exception:  # noqa: BLE001 - that node may be the one down
                continue
            if found:
                return found
        return None
    return wait_for(f"session {user}/{resource} in the cluster", lookup, timeout, 0.05)


def ejabberd_healthy(node):
    try:
        return "is running in that node" in json.dumps(api(node, "status"))
    except Exception:  # noqa: BLE001
        return False


def haproxy_servers():
    with urllib.request.urlopen("http://127.0.0.1:8404/stats;csv", timeout=2) as r:
        rows = r.read().decode().splitlines()
    out = {}
    for row in rows:
        f = row.split(",")
        if len(f) > 17 and f[0] == "ejabberd_c2s" and f[1] not in ("BACKEND", "FRONTEND"):
            out[f[1]] = f[17]
    return out


def peer_healthy():
    """The federated peer (peer.test, server/lib/peer.sh) answers on its API."""
    try:
        req = urllib.request.Request(f"http://{PEER_IP}:5280/api/status", data=b"{}",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=3) as r:
            return "is running in that node" in r.read().decode()
    except Exception:  # noqa: BLE001
        return False


def stack_healthy():
    """The state every test must leave behind for the next one."""
    return (ejabberd_healthy(1) and ejabberd_healthy(2) and peer_healthy()
            and cluster(1) == sorted(NODE_NAME.values())
            and haproxy_servers() == {"ej1": "UP", "ej2": "UP"}
            and replication_ok(1) and replication_ok(2))


# --- XMPP client --------------------------------------------------------------------------

def password(user):
    with open(os.path.join(RUN_DIR, "secrets", f"xmpp-{user}.password")) as f:
        return f.readline().strip()


class LoginFailed(Exception):
    pass


def client_class():
    import slixmpp  # noqa: PLC0415 - imported late so the launcher-only tests need no slixmpp

    class Client(slixmpp.ClientXMPP):
        def __init__(self, user, resource):
            super().__init__(f"{user}@{DOMAIN}/{resource}", password(user), sasl_mech="SCRAM-SHA-256")
            # Verify the stack's certificate (slixmpp does not verify at all without ca_certs).
            self.ca_certs = os.path.join(RUN_DIR, "tls", f"{DOMAIN}.crt")
            self.register_plugin("xep_0280")  # carbons
            self.register_plugin("xep_0199")  # ping
            self.inbox = asyncio.Queue()
            self.carbons = asyncio.Queue()
            self.add_event_handler("message", lambda m: self.inbox.put_nowait(m))
            self.add_event_handler("carbon_received", lambda m: self.carbons.put_nowait(("received", m)))
            self.add_event_handler("carbon_sent", lambda m: self.carbons.put_nowait(("sent", m)))

        def mechanism(self):
            mech = self["feature_mechanisms"].mech
            return mech.name if mech else None

        def tls_version(self):
            ssl_obj = self.transport.get_extra_info("ssl_object") if self.transport else None
            return ssl_obj.version() if ssl_obj else None

    return Client


async def login(user, resource=None, addr=LB, timeout=10.0, presence=True, plugins=()):
    """Connects with STARTTLS + SCRAM-SHA-256 and binds a resource. Raises LoginFailed."""
    Client = client_class()
    c = Client(user, resource or "t-" + uuid.uuid4().hex[:8])
    for p in plugins:
        c.register_plugin(p)
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def finish(exc=None):
        if not done.done():
            done.set_exception(exc) if exc else done.set_result(True)

    c.add_event_handler("session_start", lambda _: finish())
    c.add_event_handler("failed_auth", lambda _: finish(LoginFailed("authentication failed")))
    c.add_event_handler("connection_failed", lambda e: finish(LoginFailed(f"connection failed: {e}")))
    c.add_event_handler("disconnected", lambda _: finish(LoginFailed("disconnected during login")))
    c.add_event_handler("ssl_invalid_chain", lambda _: finish(LoginFailed("certificate not trusted")))
    c.connect(address=tuple(addr))
    try:
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        c.abort()
        raise LoginFailed(f"no session within {timeout}s") from None
    except BaseException:
        c.abort()
        raise
    if presence:
        c.send_presence()
    return c


async def close(*clients):
    for c in clients:
        try:
            c.disconnect(wait=1.0)
        except Exception:  # noqa: BLE001
            c.abort()
    await asyncio.sleep(0.1)


async def next_message(queue, match, timeout=10.0):
    """First item of queue satisfying match(item); others are dropped."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching stanza within {timeout}s")
        try:
            item = await asyncio.wait_for(queue.get(), left)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching stanza within {timeout}s") from None
        if match(item):
            return item


async def first_login_after(start, user, addr=LB, every=0.1, attempt_timeout=3.0, give_up=20.0):
    """Starts a login attempt every `every` seconds until one succeeds; returns
    (seconds from `start` to the first successful session, client, attempts)."""
    tasks = []
    deadline = time.monotonic() + give_up
    winner = None
    try:
        while time.monotonic() < deadline and winner is None:
            tasks.append(asyncio.ensure_future(login(user, addr=addr, timeout=attempt_timeout, presence=False)))
            await asyncio.sleep(every)
            for t in tasks:
                if t.done() and not t.cancelled() and t.exception() is None:
                    winner = t.result()
                    break
        if winner is None:
            raise AssertionError(f"no login through {addr} within {give_up}s")
        elapsed = time.monotonic() - start
        return elapsed, winner, len(tasks)
    finally:
        for t in tasks:
            if not t.done():
                t.cancel()
        losers = []
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is None and t.result() is not winner:
                losers.append(t.result())
        await close(*losers)


# --- running test functions as one ctest test --------------------------------------------

def run(tests):
    """Runs the given functions in order, prints one line each and `N passed, N failed`."""
    passed = failed = 0
    for fn in tests:
        t0 = time.monotonic()
        try:
            res = fn()
            if asyncio.iscoroutine(res):
                asyncio.run(res)
            passed += 1
            say(f"PASS {fn.__name__} ({time.monotonic() - t0:.1f}s)")
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run continues
            failed += 1
            say(f"FAIL {fn.__name__} ({time.monotonic() - t0:.1f}s): {type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)

