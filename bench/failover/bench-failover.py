#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# bench-failover (issue 7): on a real local cluster (tools/cluster: one systemd per node, the build
# tree's fleetd), K `sleep` units per node are started with fleetctl; then a node is power-cut
# (tools/cluster kill) and the time from the kill until every one of its units is reported active
# on another machine is measured, over several runs, for each agent_ttl. The clock starts just
# before the kill command; "active elsewhere" is read from an etcd watch on the registry (P states/:
# the agents' reports of systemd's ActiveState; P schedule/: the leader's reassignments, printed as
# a breakdown), so every event is stamped as it arrives, not polled. The takeover (lease expiry to
# all active) is printed with its rate; with --stages each survivor's journal adds its own stages:
# unit files written (fleetd's "Loading"), systemd's daemon-reloads, its first and last "Started".
# Figures are printed, never asserted. Needs root; uses its own cluster id and tears it down at the
# end.

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import Cluster, PREFIX, SRC, wait_for  # noqa: E402

USAGE = """bench-failover.py [--build DIR] [--cluster ID] [--nodes N] [--units K] [--runs R]
                         [--ttl T,...] [--victim other|leader] [--stages]

Boots a local cluster of N nodes running DIR's fleetd with agent_ttl T, starts K units per node
with DIR's fleetctl, power-cuts one node per run and prints the time until all of its units are
active elsewhere (p50/p99 over R runs), for each T, and the takeover: from the lease's expiry to
all active, with its rate. --stages: each survivor's stages from its journal (files written,
daemon-reloads, systemd's first and last start). Needs root, etcd and etcdctl.
Targets: p50 <= TTL + 1.5 s, p99 <= TTL + 3 s."""


def parse_args():
        p = argparse.ArgumentParser(usage=USAGE)
        p.add_argument("--build", default=os.environ.get("BUILD", os.path.join(SRC, "build")),
                       help="build directory holding fleetd/fleetd and cli/fleetctl")
        p.add_argument("--cluster", type=int, default=60, help="cluster id (default 60)")
        p.add_argument("--nodes", type=int, default=3, help="nodes, 3 to 5 (default 3)")
        p.add_argument("--units", type=int, default=10, help="units per node (default 10)")
        p.add_argument("--runs", type=int, default=10, help="kills per TTL (default 10)")
        p.add_argument("--ttl", default="2,10", help="agent_ttl values in seconds (default 2,10)")
        p.add_argument("--victim", choices=["other", "leader"], default="other",
                       help="kill a node that is not the engine's leader (default), or the leader")
        p.add_argument("--stages", action="store_true",
                       help="read each survivor's journal for its stages of the takeover")
        return p.parse_args()




def placement(c, units):
        """unit -> machine id for units active on exactly one live machine, or None if not all are."""
        states, _ = c.get_prefix("states/")
        live = c.machines()
        where = {}
        for key, s in states.items():
                unit, _, mid = key.partition("/")
                if s.get("active_state") == "active" and mid in live:
                        where.setdefault(unit, []).append(mid)
        if any(len(where.get(u, [])) != 1 for u in units):
                return None
        return {u: where[u][0] for u in units}


class StateWatch:
        """Follows the registry (P) from a revision on, stamping each event with time.monotonic()."""

        def __init__(self, c, rev):
                self.events = []
                self.cond = threading.Condition()
                self.proc = subprocess.Popen(["etcdctl", "watch", "--prefix", PREFIX, "--rev", str(rev),
                                              "-w", "json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                             text=True, env=c.env)
                self.thread = threading.Thread(target=self.read, daemon=True)
                self.thread.start()

        def read(self):
                for line in self.proc.stdout:
                        now = time.monotonic()
                        try:
                                resp = json.loads(line)
                        except ValueError:
                                continue
                        with self.cond:
                                for ev in resp.get("Events") or []:
                                        key = base64.b64decode(ev["kv"]["key"]).decode()[len(PREFIX):]
                                        val = ev["kv"].get("value")
                                        rec = json.loads(base64.b64decode(val)) if val and ev.get("type") != "DELETE" \
                                                else None
                                        self.events.append((now, key, rec))
                                self.cond.notify_all()

        def stop(self):
                self.proc.kill()
                self.proc.wait()


def stages(c, node, since, t0_real):
        """A survivor's takeover from its journal, in seconds after the kill: fleetd's "Loading" lines
        (unit files written), systemd's "Reloading." lines, its "Started failover-" lines."""
        p = c.tool("exec", node, "journalctl", "-o", "short-unix", "--no-pager", "--since", "@%d" % since,
                   check=False, timeout=60)
        loads, reloads, starts = [], [], []
        for line in p.stdout.splitlines():
                ts, _, rest = line.partition(" ")
                try:
                        t = float(ts) - t0_real
                except ValueError:
                        continue
                if t < 0:
                        continue        # --since has whole seconds: the lines before the kill
                if "fleetd[" in rest and ": Loading failover-" in rest:
                        loads.append(t)
                elif "systemd[1]: Reloading." in rest:
                        reloads.append(t)
                elif "systemd[1]: Started failover-" in rest:
                        starts.append(t)
        return loads, reloads, starts


def span(v):
        return "%.2f-%.2fs" % (min(v), max(v)) if v else "none"


def one_run(c, units, victim_kind, bound, run, want_stages=False):
        if c.fleetctl("start", "--no-block", *[u for u in units], cwd=c.unit_dir).returncode != 0:
                raise RuntimeError("fleetctl start failed")
        where = wait_for(lambda: placement(c, units), 120, 0.5)
        if not where:
                raise RuntimeError("units did not all become active")
        nodes = c.machines()
        leader = c.leader()
        per = {}
        for u, mid in where.items():
                per.setdefault(mid, []).append(u)
        candidates = sorted((m for m in nodes if (m == leader) == (victim_kind == "leader") and per.get(m)),
                            key=lambda m: nodes[m])
        if not candidates:
                raise RuntimeError("no %s node runs units" % victim_kind)
        victim = candidates[run % len(candidates)]      # take turns among the nodes that qualify
        moved = set(per.get(victim, []))

        _, rev = c.get_prefix("states/")
        watch = StateWatch(c, rev + 1)
        time.sleep(0.3)
        t0 = time.monotonic()
        t0_real = time.time()
        c.tool("kill", nodes[victim])
        t_kill = time.monotonic() - t0

        active = {}                     # unit -> set of machines where it is active (not the victim)
        gone = None                     # when the last of the victim's states vanished (its lease expired)
        victim_keys = {"states/%s/%s" % (u, victim) for u in moved}
        unassigned = set(moved)         # moved units the leader has not yet assigned to another machine
        assigned = None
        done = None
        i = 0
        with watch.cond:
                end = t0 + bound
                while done is None and time.monotonic() < end:
                        while i < len(watch.events):
                                now, key, rec = watch.events[i]
                                i += 1
                                if key in victim_keys and rec is None:
                                        victim_keys.discard(key)
                                        if not victim_keys:
                                                gone = now
                                kind, _, rest = key.partition("/")
                                if kind == "schedule" and rec is not None:
                                        mid, _, unit = rest.partition("/")
                                        if mid != victim and unit in unassigned:
                                                unassigned.discard(unit)
                                                if not unassigned:
                                                        assigned = now
                                if kind != "states":
                                        continue
                                unit, _, mid = rest.partition("/")
                                if mid == victim or unit not in moved:
                                        continue
                                if rec is not None and rec.get("active_state") == "active":
                                        active.setdefault(unit, set()).add(mid)
                                else:
                                        active.get(unit, set()).discard(mid)
                                if done is None and all(active.get(u) for u in moved):
                                        done = now
                        if done is None:
                                watch.cond.wait(0.2)
        watch.stop()

        result = {"node": nodes[victim], "units": len(moved), "kill": t_kill,
                  "total": done - t0 if done else None, "detect": gone - t0 if gone else None,
                  "assigned": assigned - t0 if assigned else None, "stages": {}}
        if want_stages:
                for mid, n in sorted(nodes.items(), key=lambda kv: kv[1]):
                        if mid != victim:
                                result["stages"][n] = stages(c, n, int(t0_real) - 1, t0_real)
        c.tool("start", nodes[victim])
        c.fleetctl("destroy", *units)
        wait_for(lambda: not c.get_prefix("states/")[0] and len(c.machines()) == len(nodes), 120, 0.5)
        return result


def percentile(values, q):
        """Nearest-rank percentile of a non-empty list."""
        v = sorted(values)
        k = max(0, min(len(v) - 1, int(-(-q * len(v) // 100)) - 1))
        return v[k]


def secs(v):
        return "%.2fs" % v if v is not None else "?"


def bench_ttl(c, args, ttl):
        c.up(args.nodes, ttl)
        if not wait_for(lambda: len(c.machines()) == args.nodes and c.leader(), 180):
                raise RuntimeError("the cluster's fleetds did not all register")
        units = ["failover-%d.service" % i for i in range(args.nodes * args.units)]
        for u in units:
                with open(os.path.join(c.unit_dir, u), "w") as f:
                        f.write("[Unit]\nDescription=bench-failover %s\n\n"
                                "[Service]\nExecStart=/bin/sleep infinity\n" % u)

        print("agent_ttl %ds: %d nodes, %d units per node, kill a%s node, %d runs"
              % (ttl, args.nodes, args.units, " leader" if args.victim == "leader" else "n other", args.runs),
              flush=True)
        totals, detects, assigns, takeovers = [], [], [], []
        for r in range(args.runs):
                res = one_run(c, units, args.victim, ttl + 60, r, args.stages)
                if res["total"] is None:
                        print("  run %2d: node%d, %d units: NOT all active elsewhere within %ds"
                              % (r + 1, res["node"], res["units"], ttl + 60), flush=True)
                        continue
                totals.append(res["total"])
                if res["detect"] is not None:
                        detects.append(res["detect"])
                if res["assigned"] is not None:
                        assigns.append(res["assigned"])
                print("  run %2d: node%d killed (%.2fs), %d units: its lease expired after %s, all reassigned "
                      "after %s, all active elsewhere after %.2fs"
                      % (r + 1, res["node"], res["kill"], res["units"], secs(res["detect"]), secs(res["assigned"]),
                         res["total"]), flush=True)
                if res["detect"] is not None:
                        took = res["total"] - res["detect"]
                        takeovers.append(took)
                        print("          takeover: %d units active %.2fs after the lease expired (%.0f units/s)"
                              % (res["units"], took, res["units"] / took if took > 0 else 0), flush=True)
                for n, (loads, reloads, starts) in res["stages"].items():
                        print("          node%d: %d files written %s, %d daemon-reloads %s, %d started %s"
                              % (n, len(loads), span(loads), len(reloads),
                                 " ".join("%.2fs" % t for t in reloads) or "", len(starts), span(starts)),
                              flush=True)
        if totals:
                print("agent_ttl %ds: failover p50 %.2fs p99 %.2fs (min %.2f, max %.2f, %d/%d runs); "
                      "lease expiry seen p50 %s, all reassigned p50 %s; target p50 <= %.1fs, p99 <= %.1fs"
                      % (ttl, percentile(totals, 50), percentile(totals, 99), min(totals), max(totals),
                         len(totals), args.runs, secs(percentile(detects, 50) if detects else None),
                         secs(percentile(assigns, 50) if assigns else None), ttl + 1.5, ttl + 3), flush=True)
        if takeovers:
                print("agent_ttl %ds: takeover of %d units (lease expiry to all active) p50 %.2fs, max %.2fs"
                      % (ttl, args.units, percentile(takeovers, 50), max(takeovers)), flush=True)
        c.tool("down")


def main():
        args = parse_args()
        if os.geteuid() != 0:
                print("bench-failover: skipped, needs root (it boots a local cluster)", file=sys.stderr)
                return 77
        for tool in ("etcd", "etcdctl"):
                if not shutil.which(tool):
                        print("%s: skipped, %s is not installed (tools/setup.sh)" % ("bench-failover", tool), file=sys.stderr)
                        return 77
        c = Cluster(args.cluster, os.path.abspath(args.build))
        for path in (c.fleetd_path, c.fleetctl_path):
                if not os.access(path, os.X_OK):
                        print("bench-failover: %s is missing: build it, or pass --build DIR" % path, file=sys.stderr)
                        return 2
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as d:
                c.unit_dir = d
                try:
                        for ttl in [int(t) for t in args.ttl.split(",")]:
                                bench_ttl(c, args, ttl)
                finally:
                        c.tool("down", check=False)
        return 0


if __name__ == "__main__":
        sys.exit(main())
