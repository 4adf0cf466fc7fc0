#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# fleet-soak (issue 16): N units on a local cluster (tools/cluster, real systemd and etcd), and for
# a given time random faults, one at a time: power cut and restart of a machine, partition and
# heal, freeze and thaw (every process of the machine, SIGSTOP-like, cgroup.freeze), power cut of
# the engine leader's machine, kill and restart of an etcd member, restart of fleetd. The fault
# schedule comes from a seed, printed first, so that a failing run can be replayed (--seed).
#
# A checker (cluster-sampler) reads every machine's systemd unit cgroups every 100 ms throughout,
# on both sides of every fault, and counts:
#   - duplicates: a unit running on two machines at once, and for how long; the part during which
#     one of the machines was frozen (its copy could not run, nor be stopped) is counted apart;
#   - lost units: a unit running nowhere longer than agent_ttl + 5 s after the last fault healed;
#   - restarts without a reason: a copy that stopped on a machine that no fault hit (or later than
#     agent_ttl + 5 s after its fault healed): an etcd member kill and a fleetd restart are no reason;
#   - crashes: every exit of fleetd but SIGTERM, from each machine's journal (read before every
#     power cut and at the end);
#   - etcd requests per second, from every member's /metrics (gRPC messages received).
# It prints those figures. With --check it exits 1 on a duplicate beyond the tolerance, a lost
# unit or a crash (restarts without a reason are printed, and fail with --check-restarts).
#
# Needs root, etcd, etcdctl and a build (cluster-sampler, fleetd, fleetctl). Uses cluster id 38 by
# default and tears it down at the end.

import argparse
import os
import random
import re
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soaklib  # noqa: E402
from soaklib import Cluster, wait_for  # noqa: E402

FAULTS = ["power", "partition", "freeze", "leader", "etcd", "fleetd"]
METRIC = re.compile(r'^grpc_server_msg_received_total\{[^}]*\} ([0-9.e+]+)$', re.M)
EXIT = re.compile(r'fleetd\.service: Main process exited, code=(\w+), status=(\S+)')


def parse_args():
        p = argparse.ArgumentParser(description="Random faults on a local fleet cluster, checked.")
        p.add_argument("--build", default=os.environ.get("TOP_BUILDDIR", os.path.join(soaklib.SRC, "build")))
        p.add_argument("--cluster", type=int, default=38, help="cluster id (default 38)")
        p.add_argument("--nodes", type=int, default=3, help="machines (default 3)")
        p.add_argument("--units", type=int, default=30, help="units (default 30)")
        p.add_argument("--duration", type=float, default=180, help="seconds of faults (default 180)")
        p.add_argument("--interval", default="10-30", help="seconds between faults, MIN-MAX (default 10-30)")
        p.add_argument("--ttl", type=int, default=5, help="agent_ttl in seconds (default 5)")
        p.add_argument("--topology", choices=["machine", "host"], default="machine",
                       help="etcd member per machine (default, the CoreOS shape) or 3 members on the host")
        p.add_argument("--faults", default=",".join(FAULTS), help="kinds to draw from (default all)")
        p.add_argument("--seed", type=int, help="replay this seed")
        p.add_argument("--tolerance", type=float, default=1.0,
                       help="seconds two copies may both run (neither frozen) before it counts (default 1)")
        p.add_argument("--check", action="store_true", help="exit 1 on duplicates, lost units or crashes")
        p.add_argument("--check-restarts", action="store_true", help="... and on restarts without a reason")
        p.add_argument("--logs", help="where a failing run leaves the sampler's events and every machine's "
                       "fleetd journal (default /tmp/fleet-soak-SEED)")
        a = p.parse_args()
        lo, _, hi = a.interval.partition("-")
        a.gap = (float(lo), float(hi or lo))
        a.faults = [f for f in a.faults.split(",") if f]
        bad = [f for f in a.faults if f not in FAULTS]
        if bad or not a.faults:
                p.error("--faults: unknown kind %s (kinds: %s)" % (",".join(bad) or "(none)", ",".join(FAULTS)))
        if a.seed is None:
                a.seed = random.SystemRandom().randrange(1, 2**31)
        a.logs = a.logs or "/tmp/fleet-soak-%d" % a.seed
        return a


class Soak:
        def __init__(self, a):
                self.a = a
                self.rng = random.Random(a.seed)
                self.c = Cluster(a.cluster, a.build)
                self.sampler = None
                self.faults = []                # {"kind", "node", "start", "heal"}
                self.exits = {}                 # node -> set of journal lines seen
                self.crashes = []
                self.metrics = {}               # member URL -> last counter value
                self.requests = 0.0
                self.t0 = None

        def log(self, msg):
                t = time.monotonic() - self.t0 if self.t0 else 0
                print("[%7.1fs] %s" % (t, msg), flush=True)

        # ------------------------------------------------------------ the cluster
        def up(self):
                a = self.a
                self.c.tool("down")
                if a.topology == "machine":
                        self.c.up(a.nodes, a.ttl, per_machine=True)
                else:
                        self.c.tool("up", a.nodes, 3, "--fleetd", self.c.fleetd_path, "--agent-ttl", "%ds" % a.ttl,
                                    timeout=600)
                for line in self.c.tool("env").stdout.splitlines():
                        if line.startswith("export "):
                                k, _, v = line[len("export "):].partition("=")
                                self.c.env[k] = v.strip('"')
                self.members = self.c.tool("etcd-endpoints").stdout.strip().split(",")
                w, t = wait_for(lambda: self.machines_ok() and self.leader_node(), 180, 0.5)
                if not w:
                        raise RuntimeError("the machines did not all register")

        def machines_ok(self):
                return len(soaklib.machines(self.c)) == self.a.nodes

        def leader_node(self):
                try:
                        return soaklib.machines(self.c).get(self.c.leader())
                except Exception:
                        return None

        def poll_metrics(self):
                for url in self.members:
                        try:
                                with urllib.request.urlopen(url + "/metrics", timeout=2) as r:
                                        v = sum(float(x) for x in METRIC.findall(r.read().decode()))
                        except Exception:
                                continue        # down or cut off: read it next time
                        last = self.metrics.get(url)
                        # A member that restarted counts from 0 again.
                        self.requests += v - last if last is not None and v >= last else (v if last is not None else 0)
                        self.metrics[url] = v

        def scan_journal(self, n):
                """fleetd exits of node n but SIGTERM, each counted once."""
                p = self.c.tool("exec", n, "journalctl", "-q", "--no-pager", "-o", "short-precise",
                                "-u", "fleetd.service", timeout=60, check=False)
                seen = self.exits.setdefault(n, set())
                for line in p.stdout.splitlines():
                        m = EXIT.search(line)
                        if not m or line in seen:
                                continue
                        seen.add(line)
                        if (m.group(1), m.group(2)) in (("killed", "15/TERM"), ("exited", "0/SUCCESS")):
                                continue
                        self.crashes.append((n, line))
                        self.log("CRASH on node%d: %s" % (n, line))

        # ------------------------------------------------------------ faults
        def hold(self):
                return self.rng.uniform(1.0, 3.0 * self.a.ttl)

        def fault(self):
                a, c = self.a, self.c
                kind = self.rng.choice(a.faults)
                node = self.rng.randint(1, a.nodes)
                hold = self.hold()
                # Which member leads etcd as the fault starts: a frozen leader's thaw is where etcd 3.4
                # before 3.4.28 revokes the other machines' leases (etcd-io/etcd#15247).
                f = {"kind": kind, "node": node, "start": time.monotonic(), "heal": None,
                     "etcd_leader": soaklib.leader_member(self.members)}
                if kind == "leader":
                        node = self.leader_node() or node
                        f["node"] = node
                if kind in ("power", "leader"):
                        self.log("%s: power cut of node%d for %.1fs" % (kind, node, hold))
                        self.scan_journal(node)
                        f["start"] = time.monotonic()
                        c.tool("kill", node)
                        time.sleep(hold)
                        c.tool("start", node, timeout=300)
                elif kind == "partition":
                        self.log("partition of node%d for %.1fs" % (node, hold))
                        c.tool("partition", node)
                        time.sleep(hold)
                        c.tool("heal", node)
                elif kind == "freeze":
                        self.log("freeze of node%d for %.1fs (etcd's leader: e%s)" % (node, hold, f["etcd_leader"]))
                        c.tool("freeze", node)
                        time.sleep(hold)
                        c.tool("thaw", node)
                elif kind == "etcd":
                        node = self.rng.randint(1, len(self.members))
                        f["node"] = node
                        self.log("etcd member e%d killed for %.1fs" % (node, hold))
                        c.tool("etcd-kill", node)
                        time.sleep(hold)
                        c.tool("etcd-start", node, timeout=300, check=False)
                elif kind == "fleetd":
                        self.log("fleetd restart on node%d" % node)
                        c.tool("exec", node, "systemctl", "restart", "fleetd.service", timeout=120)
                f["heal"] = time.monotonic()
                self.faults.append(f)
                # The next fault only once this one is over: every member answers, every machine is
                # registered (else two faults at once could take etcd's quorum).
                w, t = wait_for(lambda: self.members_healthy() and self.machines_ok(), 120, 0.5)
                if not w:
                        self.log("not recovered %.0fs after the heal" % t)

        def members_healthy(self):
                for url in self.members:
                        try:
                                urllib.request.urlopen(url + "/health", timeout=2).close()
                        except Exception:
                                return False
                return True

        # ------------------------------------------------------------ the run
        def run(self, units, unit_dir):
                a, c = self.a, self.c
                p = c.fleetctl("start", "--no-block", *units, cwd=unit_dir)
                if p.returncode != 0:
                        raise RuntimeError("fleetctl start: %s" % p.stderr.strip())
                w, t = wait_for(lambda: all(len(self.sampler.where(u)) == 1 for u in units), 300, 0.5)
                if not w:
                        raise RuntimeError("the units did not all start")
                self.t0 = time.monotonic()
                self.poll_metrics()
                own0 = c.own_requests
                self.log("%d units run, one copy each; faults for %.0fs, seed %d" % (len(units), a.duration, a.seed))
                end = self.t0 + a.duration
                next_fault = self.t0 + self.rng.uniform(*a.gap)
                while time.monotonic() < end:
                        if time.monotonic() >= next_fault:
                                self.fault()
                                next_fault = time.monotonic() + self.rng.uniform(*a.gap)
                        self.poll_metrics()
                        time.sleep(min(2.0, max(0.1, min(next_fault, end) - time.monotonic())))
                last_heal = max([f["heal"] for f in self.faults] or [self.t0])
                # Converged: every unit once, within TTL + 5 s of the last heal (plus the checker's time).
                w, t = wait_for(lambda: all(len(self.sampler.where(u)) == 1 for u in units), a.ttl + 5 + 60, 0.5)
                settle = time.monotonic() - last_heal
                self.log("end of faults; %s %.1fs after the last heal" % ("converged" if w else "NOT converged", settle))
                # A quiet stretch, so that a late spurious stop or duplicate would still be seen.
                time.sleep(a.ttl + 5)
                self.poll_metrics()
                t_end = time.monotonic()
                for n in range(1, a.nodes + 1):
                        self.scan_journal(n)
                return t_end, c.own_requests - own0

        def report(self, units, t_end, own):
                a = self.a
                events, ticks, max_gap = self.sampler.stop()
                cs = soaklib.copies(events, t_end)
                grace = a.ttl + 5

                # When each machine was frozen: a copy there neither runs nor can be stopped.
                frozen, since = {}, {}
                for t, kind, n, st, _ in events:
                        if kind != "node":
                                continue
                        if st == "frozen":
                                since[n] = t
                        elif n in since:
                                frozen.setdefault(n, []).append((since.pop(n), t))
                for n, t in since.items():
                        frozen.setdefault(n, []).append((t, t_end))

                def frozen_part(s, e, nodes):
                        d = 0.0
                        for n in nodes:
                                for fs, fe in frozen.get(n, []):
                                        d += max(0.0, min(e, fe) - max(s, fs))
                        return min(d, e - s)

                ov = [o for o in soaklib.overlaps(cs) if o[2] > self.t0]
                active = [(o, (o[2] - o[1]) - frozen_part(o[1], o[2], o[3])) for o in ov]
                beyond = [(o, d) for o, d in active if d > a.tolerance]

                def covered(t, node=None, kinds=("power", "leader", "partition", "freeze")):
                        return any(f["start"] <= t <= f["heal"] + grace and f["kind"] in kinds and
                                   (node is None or f["node"] == node) for f in self.faults)

                # Lost: a moment a unit runs nowhere that no fault window covers (measured in samples).
                lost, lost_at = {}, {}
                for u, s, e in soaklib.gaps(cs, units, self.t0, t_end):
                        t = s
                        while t < e:
                                if not covered(t, kinds=tuple(FAULTS)):
                                        lost[u] = lost.get(u, 0.0) + min(0.1, e - t)
                                        lost_at.setdefault(u, t)
                                t += 0.1
                lost = {u: d for u, d in lost.items() if d > 0.3}  # a few samples: the sampler's own jitter
                lost_at = {u: t for u, t in lost_at.items() if u in lost}

                # Restarts without a reason: a copy that ended, during the run, on a machine no fault hit.
                restarts = []
                for u, lst in cs.items():
                        for n, s, e, pid in lst:
                                if self.t0 < e < t_end and not covered(e, n):
                                        restarts.append((u, n, e))

                dur = t_end - self.t0
                kinds = {}
                for f in self.faults:
                        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
                print("fleet-soak: seed %d, %d machines (etcd %s), %d units, agent_ttl %ds, %.0fs"
                      % (a.seed, a.nodes, "member per machine" if a.topology == "machine" else "3 members on the host",
                         len(units), a.ttl, dur))
                print("faults: %d (%s)" % (len(self.faults), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
                print("samples: %d, longest gap between two %d ms" % (ticks or 0, max_gap or 0))
                print("duplicates: %d stretches with two copies, %d units; longest %.2fs, total %.2fs; "
                      "of which with both copies thawed: longest %.2fs, total %.2fs; beyond the tolerance "
                      "(%.1fs): %d" % (len(ov), len({o[0] for o in ov}), max([o[2] - o[1] for o in ov] or [0]),
                                        sum(o[2] - o[1] for o in ov), max([d for _, d in active] or [0]),
                                        sum(d for _, d in active), a.tolerance, len(beyond)))
                print("lost units (running nowhere > agent_ttl + 5 s after the last heal): %d%s"
                      % (len(lost), ", longest %.1fs" % max(lost.values()) if lost else ""))
                print("restarts without a reason: %d" % len(restarts))
                print("crashes (fleetd exits but SIGTERM): %d" % len(self.crashes))
                print("etcd requests: %.1f/s (%.2f per machine; the checker's own %d excluded)"
                      % ((self.requests - own) / dur, (self.requests - own) / dur / a.nodes, own))
                for o, d in beyond[:20]:
                        print("  duplicate: %s on nodes %s for %.2fs (%.2fs thawed), from +%.1fs"
                              % (o[0], o[3], o[2] - o[1], d, o[1] - self.t0))
                for u, d in sorted(lost.items())[:20]:
                        print("  lost: %s ran nowhere for %.1fs outside any fault's window" % (u, d))
                for u, n, e in restarts[:20]:
                        print("  restart: %s stopped on node%d at +%.1fs, no fault there" % (u, n, e - self.t0))
                for n, line in self.crashes[:20]:
                        print("  crash: node%d: %s" % (n, line))
                for f in self.faults:
                        print("  fault %-9s node%d at +%.1fs, healed +%.1fs, etcd's leader e%s"
                              % (f["kind"], f["node"], f["start"] - self.t0, f["heal"] - self.t0, f["etcd_leader"]))
                # What follows the thaw of etcd's leader's machine (member per machine: member i on
                # node i), up to TTL + 35 s after it, is told apart: etcd-io/etcd#15247.
                def after_leader_thaw(t):
                        last = [f for f in self.faults if f["start"] <= t]
                        f = last[-1] if last else None
                        return bool(f and a.topology == "machine" and f["kind"] == "freeze" and
                                    f["node"] == f["etcd_leader"] and t <= f["heal"] + grace + 30)

                thaws = [f for f in self.faults if f["kind"] == "freeze"]
                print("after a thaw of etcd's leader's machine (%d of %d freezes): %d duplicates beyond the tolerance, "
                      "%d lost, %d restarts without a reason"
                      % (sum(f["node"] == f["etcd_leader"] for f in thaws), len(thaws),
                         sum(after_leader_thaw(o[1]) for o, _ in beyond),
                         sum(after_leader_thaw(t) for t in lost_at.values()),
                         sum(after_leader_thaw(e) for _, _, e in restarts)))
                bad = bool(beyond or lost or self.crashes or (a.check_restarts and restarts))
                if bad or restarts:
                        self.keep_logs(events)
                return bad

        def keep_logs(self, events):
                """The evidence of a failing run, before the cluster goes down."""
                os.makedirs(self.a.logs, exist_ok=True)
                with open(os.path.join(self.a.logs, "events.txt"), "w") as f:
                        for t, kind, n, what, pid in events:
                                f.write("%.3f %s %d %s %s\n" % (t - self.t0, kind, n, what, pid or ""))
                        for x in self.faults:
                                f.write("%.3f fault %s %d healed %.3f etcd-leader %s\n"
                                        % (x["start"] - self.t0, x["kind"], x["node"], x["heal"] - self.t0,
                                           x["etcd_leader"]))
                for n in range(1, self.a.nodes + 1):
                        p = self.c.tool("exec", n, "journalctl", "-q", "--no-pager", "-o", "short-monotonic",
                                        "-u", "fleetd.service", "-u", "etcd-member.service", timeout=120, check=False)
                        with open(os.path.join(self.a.logs, "node%d.log" % n), "w") as f:
                                f.write(p.stdout)
                print("fleet-soak: events and journals in %s" % self.a.logs, flush=True)


def main():
        a = parse_args()
        if os.getuid() != 0:
                print("fleet-soak: needs root", file=sys.stderr)
                return 77
        sampler = os.path.join(a.build, "tests", "cluster", "cluster-sampler")
        for f in (sampler, os.path.join(a.build, "fleetd", "fleetd"), os.path.join(a.build, "cli", "fleetctl")):
                if not os.access(f, os.X_OK):
                        print("fleet-soak: %s is not built" % f, file=sys.stderr)
                        return 2
        print("fleet-soak: seed %d (replay: --seed %d)" % (a.seed, a.seed), flush=True)
        s = Soak(a)
        unit_dir = tempfile.mkdtemp(prefix="fleet-soak-")
        units = ["soak-%d.service" % i for i in range(a.units)]
        for u in units:
                with open(os.path.join(unit_dir, u), "w") as f:
                        f.write("[Unit]\nDescription=%s\n\n[Service]\nExecStart=/bin/sleep infinity\n" % u)
        bad = True
        try:
                s.up()
                s.sampler = soaklib.Sampler(sampler, s.c.tool("cgroup").stdout.strip(), a.nodes, "soak-")
                t_end, own = s.run(units, unit_dir)
                bad = s.report(units, t_end, own)
        finally:
                if s.sampler:
                        s.sampler.stop()
                s.c.tool("down", check=False)
                for u in units:
                        os.unlink(os.path.join(unit_dir, u))
                os.rmdir(unit_dir)
        print("fleet-soak: seed %d: %s" % (a.seed, "FAILED" if bad else "passed"), flush=True)
        return 1 if bad and a.check else 0


if __name__ == "__main__":
        sys.exit(main())
