# SPDX-License-Identifier: Apache-2.0
"""What the partition test and the fault soak share: cluster-sampler's view of which node runs
which unit (read from every node's systemd unit cgroups every 100 ms, on both sides of any fault),
turned into per-copy intervals, overlaps (two copies of a unit running at once) and gaps (a unit
running nowhere). Times are time.monotonic() seconds, the sampler's clock."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "bench"))
from benchlib import Cluster, PREFIX  # noqa: E402,F401  (the tests' cluster)


def machines(c):
        """Cluster.machines(), or {} while etcdctl fails (a member cut off or restarting)."""
        try:
                return c.machines()
        except Exception:
                return {}


def member_status(url):
        """(member id, leader id) from etcd member url, or None if it does not answer."""
        try:
                req = urllib.request.Request(url + "/v3/maintenance/status", data=b"{}", method="POST")
                with urllib.request.urlopen(req, timeout=1) as r:
                        s = json.loads(r.read())
                return s["header"]["member_id"], s.get("leader")
        except Exception:
                return None


def leader_member(members):
        """The member (1..n) of members (URLs) that leads, by its own status, or None."""
        for i, url in enumerate(members):
                s = member_status(url)
                if s and s[0] == s[1]:
                        return i + 1
        return None


def wait_for(pred, bound, step=0.2):
        """(pred()'s first true value, seconds waited), or its last value once bound seconds passed."""
        t0 = time.monotonic()
        while True:
                v = pred()
                if v or time.monotonic() - t0 > bound:
                        return v, time.monotonic() - t0
                time.sleep(step)


class Sampler:
        """cluster-sampler over nodes 1..n of a cluster, following units whose name starts with prefix."""

        def __init__(self, path, cgroup_root, nodes, prefix, interval_ms=100):
                self.events = []        # (t, kind, node, unit or state, pid)
                self.current = {}       # unit -> {node: pid}
                self.node_state = {}    # node -> "up" | "down" | "frozen"
                self.ticks = self.max_gap_ms = None
                self.lock = threading.Condition()
                self.proc = subprocess.Popen([path, cgroup_root, str(nodes), prefix, str(interval_ms)],
                                             stdout=subprocess.PIPE, text=True)
                self.thread = threading.Thread(target=self._read, daemon=True)
                self.thread.start()

        def _read(self):
                for line in self.proc.stdout:
                        f = line.split()
                        if len(f) < 2:
                                continue
                        t = float(f[0])
                        with self.lock:
                                if f[1] == "up":
                                        self.events.append((t, "up", int(f[2]), f[3], int(f[4])))
                                        self.current.setdefault(f[3], {})[int(f[2])] = int(f[4])
                                elif f[1] == "down":
                                        self.events.append((t, "down", int(f[2]), f[3], None))
                                        self.current.get(f[3], {}).pop(int(f[2]), None)
                                elif f[1] == "node":
                                        st = "up" if f[3] == "thawed" else f[3]
                                        self.events.append((t, "node", int(f[2]), st, None))
                                        self.node_state[int(f[2])] = st
                                elif f[1] == "end":
                                        self.ticks, self.max_gap_ms = int(f[2]), int(f[3])
                                self.lock.notify_all()

        def where(self, unit):
                """The nodes a copy of unit runs on now."""
                with self.lock:
                        return sorted(self.current.get(unit, {}))

        def snapshot(self):
                with self.lock:
                        return {u: dict(n) for u, n in self.current.items() if n}

        def stop(self):
                """Stop sampling; returns (events, ticks, longest gap between two samples in ms)."""
                if self.proc.poll() is None:
                        self.proc.send_signal(signal.SIGTERM)
                self.proc.wait()
                self.thread.join(10)
                return self.events, self.ticks, self.max_gap_ms


def copies(events, t_end):
        """Every copy that ran: unit -> [(node, start, end, pid)], sorted by start; a copy still
        running ends at t_end. A new PID on the same node ends the previous copy there."""
        out, running = {}, {}
        for t, kind, node, what, pid in events:
                if kind == "up":
                        prev = running.pop((what, node), None)
                        if prev:
                                out.setdefault(what, []).append((node, prev[0], t, prev[1]))
                        running[(what, node)] = (t, pid)
                elif kind == "down":
                        prev = running.pop((what, node), None)
                        if prev:
                                out.setdefault(what, []).append((node, prev[0], t, prev[1]))
        for (unit, node), (t, pid) in running.items():
                out.setdefault(unit, []).append((node, t, t_end, pid))
        for v in out.values():
                v.sort(key=lambda c: c[1])
        return out


def overlaps(unit_copies):
        """Each stretch during which two or more copies of a unit ran at once:
        [(unit, start, end, nodes)]. Sampled: a stretch is at least one sample long."""
        out = []
        for unit, cs in unit_copies.items():
                points = sorted([(s, 1, n) for n, s, e, _ in cs] + [(e, -1, n) for n, s, e, _ in cs],
                                key=lambda p: (p[0], p[1]))
                on, start, nodes = {}, None, set()
                for t, d, n in points:
                        on[n] = on.get(n, 0) + d
                        live = sum(1 for v in on.values() if v > 0)
                        if live >= 2 and start is None:
                                start, nodes = t, set()
                        if start is not None:
                                nodes |= {k for k, v in on.items() if v > 0}
                        if live < 2 and start is not None:
                                if t > start:
                                        out.append((unit, start, t, sorted(nodes)))
                                start = None
        return sorted(out, key=lambda o: o[1])


def gaps(unit_copies, units, t_start, t_end):
        """Each stretch during which a unit ran nowhere, within [t_start, t_end]: [(unit, start, end)]."""
        out = []
        for unit in units:
                cs = unit_copies.get(unit, [])
                t = t_start
                for _, s, e, _ in cs:
                        if s > t:
                                out.append((unit, t, min(s, t_end)))
                        t = max(t, e)
                        if t >= t_end:
                                break
                if t < t_end:
                        out.append((unit, t, t_end))
        return [g for g in out if g[2] > g[1]]
