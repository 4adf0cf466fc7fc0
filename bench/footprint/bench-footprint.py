#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# bench-footprint (issue 7): the cost of an idle fleetd on a real local cluster (tools/cluster: one
# systemd per node, the build tree's fleetd), with 0, 100 and 1,000 `sleep` units assigned to one
# node that is not the engine's leader (an agent only), the leader measured beside it:
#   - RSS, peak RSS (VmHWM) and PSS from /proc/<pid>/status and smaps_rollup inside the node;
#   - CPU: utime + stime from /proc/<pid>/stat over an idle window (30 s by default);
#   - etcd requests per second per idle agent, read from etcd's own /metrics (gRPC messages received,
#     per method) before and after the same window, during which the benchmark itself sends nothing;
#   - the etcd cost of placing each batch: requests per placed unit, from submit until all are
#     active (fleetctl's submit, the engine's writes, the agents' state reports; the benchmark's
#     own polls are subtracted).
# Figures are printed, never asserted. Needs root; uses its own cluster id and tears it down.

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import benchlib  # noqa: E402
from benchlib import PREFIX, SRC, wait_for  # noqa: E402

USAGE = """bench-footprint.py [--build DIR] [--cluster ID] [--nodes N] [--ttl T] [--window S]
                          [--levels A,B,...]

Boots a local cluster of N nodes running DIR's fleetd (agent_ttl T), assigns A, then B, ... units
to one agent node and prints each fleetd's RSS, PSS and CPU over an idle window of S seconds, the
etcd requests per second per idle agent and the etcd requests per placement. Needs root.
Targets: <= 4 MB RSS idle, <= 0.1 %% of a core idle, <= 1 etcd request/s per idle agent."""

METRIC = re.compile(r'^grpc_server_msg_received_total\{grpc_method="([^"]+)",[^}]*\} ([0-9.e+]+)$')


def parse_args():
        p = argparse.ArgumentParser(usage=USAGE)
        p.add_argument("--build", default=os.environ.get("BUILD", os.path.join(SRC, "build")),
                       help="build directory holding fleetd/fleetd and cli/fleetctl")
        p.add_argument("--cluster", type=int, default=61, help="cluster id (default 61)")
        p.add_argument("--nodes", type=int, default=2, help="nodes (default 2: the leader and one agent)")
        p.add_argument("--ttl", type=int, default=10, help="agent_ttl in seconds (default 10, fleetd's default)")
        p.add_argument("--window", type=int, default=30, help="idle window in seconds (default 30)")
        p.add_argument("--levels", default="0,100,1000", help="units assigned to the agent (default 0,100,1000)")
        return p.parse_args()


class Cluster(benchlib.Cluster):
        def up(self, nodes, ttl):
                super().up(nodes, ttl)
                self.metrics_url = self.env["ETCDCTL_ENDPOINTS"].split(",")[0] + "/metrics"

        def metrics(self):
                """gRPC messages etcd received so far, per method: one per unary call, one per streamed
                request (a watch creation, a lease keepalive)."""
                out = {}
                with urllib.request.urlopen(self.metrics_url, timeout=10) as r:
                        for line in r.read().decode().splitlines():
                                m = METRIC.match(line)
                                if m:
                                        out[m.group(1)] = out.get(m.group(1), 0) + float(m.group(2))
                return out

        def proc(self, node):
                """(utime + stime in ticks, VmRSS kB, VmHWM kB, Pss kB, RssAnon kB) of the node's fleetd."""
                pid = self.tool("exec", node, "systemctl", "show", "-p", "MainPID", "--value", "fleetd").stdout.strip()
                stat = self.tool("exec", node, "cat", "/proc/%s/stat" % pid).stdout
                fields = stat[stat.rindex(")") + 2:].split()
                ticks = int(fields[11]) + int(fields[12])
                status = self.tool("exec", node, "cat", "/proc/%s/status" % pid).stdout
                rollup = self.tool("exec", node, "cat", "/proc/%s/smaps_rollup" % pid).stdout

                def kb(text, name):
                        m = re.search(r"^%s:\s+(\d+) kB" % name, text, re.M)
                        return int(m.group(1)) if m else -1
                return ticks, kb(status, "VmRSS"), kb(status, "VmHWM"), kb(rollup, "Pss"), kb(status, "RssAnon")


        def mappings(self, node, top):
                """The top mappings of the node's fleetd by resident size: [(rss kB, pss kB, name)]."""
                pid = self.tool("exec", node, "systemctl", "show", "-p", "MainPID", "--value", "fleetd").stdout.strip()
                rss, pss, name = {}, {}, ""
                for line in self.tool("exec", node, "cat", "/proc/%s/smaps" % pid).stdout.splitlines():
                        f = line.split()
                        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                                name = os.path.basename(f[5]) if len(f) > 5 else "[anonymous]"
                        elif f and f[0] in ("Rss:", "Pss:"):
                                d = rss if f[0] == "Rss:" else pss
                                d[name] = d.get(name, 0) + int(f[1])
                return sorted(((rss[n], pss.get(n, 0), n) for n in rss), reverse=True)[:top]




def delta(before, after):
        return {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) - before.get(k, 0) > 0}


def fmt_methods(d, scale=1.0):
        return ", ".join("%s %.2f" % (k, v * scale) for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def add_units(c, unit_dir, target_node, start, end):
        names = []
        for i in range(start, end):
                name = "footprint-%d.service" % i
                with open(os.path.join(unit_dir, name), "w") as f:
                        f.write("[Unit]\nDescription=bench-footprint %d\n\n[Service]\nExecStart=/bin/sleep infinity\n\n"
                                "[X-Fleet]\nMachineMetadata=hostname=node%d\n" % (i, target_node))
                names.append(name)
        for i in range(0, len(names), 200):
                p = c.fleetctl("start", "--no-block", *names[i:i + 200], cwd=unit_dir)
                if p.returncode != 0:
                        raise RuntimeError("fleetctl start: " + p.stderr.strip())


def active_on(c, mid):
        return sum(1 for k, s in c.get_prefix("states/")[0].items()
                   if k.endswith("/" + mid) and s.get("active_state") == "active")


def main():
        args = parse_args()
        if os.geteuid() != 0:
                print("bench-footprint: skipped, needs root (it boots a local cluster)", file=sys.stderr)
                return 77
        for tool in ("etcd", "etcdctl"):
                if not shutil.which(tool):
                        print("%s: skipped, %s is not installed (tools/setup.sh)" % ("bench-footprint", tool), file=sys.stderr)
                        return 77
        c = Cluster(args.cluster, os.path.abspath(args.build))
        for path in (c.fleetd_path, c.fleetctl_path):
                if not os.access(path, os.X_OK):
                        print("bench-footprint: %s is missing: build it, or pass --build DIR" % path, file=sys.stderr)
                        return 2
        levels = [int(x) for x in args.levels.split(",")]
        hz = os.sysconf("SC_CLK_TCK")

        with tempfile.TemporaryDirectory(prefix="bench-footprint-") as unit_dir:
                try:
                        c.up(args.nodes, args.ttl)
                        if not wait_for(lambda: len(c.machines()) == args.nodes and c.leader(), 180):
                                raise RuntimeError("the cluster's fleetds did not all register")
                        nodes = c.machines()
                        leader = c.leader()
                        agent = min((m for m in nodes if m != leader), key=lambda m: nodes[m])
                        roles = [(nodes[agent], "agent"), (nodes[leader], "leader")]
                        print("%d nodes, agent_ttl %ds, idle window %ds; units assigned to node%d (agent only), "
                              "node%d is the leader" % (args.nodes, args.ttl, args.window, nodes[agent], nodes[leader]),
                              flush=True)
                        have = 0
                        for level in levels:
                                if level > have:
                                        own0 = c.own_requests
                                        m0 = c.metrics()
                                        t0 = time.monotonic()
                                        add_units(c, unit_dir, nodes[agent], have, level)
                                        if not wait_for(lambda: active_on(c, agent) >= level, 900, 1.0):
                                                raise RuntimeError("%d units did not all become active" % level)
                                        took = time.monotonic() - t0
                                        burst = delta(m0, c.metrics())
                                        burst["Range"] = burst.get("Range", 0) - (c.own_requests - own0)
                                        n = level - have
                                        print("placed %d more units in %.1fs: %.1f etcd requests per placed unit "
                                              "(%s)" % (n, took, sum(burst.values()) / n, fmt_methods(burst, 1.0 / n)),
                                              flush=True)
                                        have = level
                                time.sleep(max(5, args.ttl))            # let reports and reloads settle
                                p0 = {n: c.proc(n) for n, _ in roles}
                                m0 = c.metrics()
                                time.sleep(args.window)
                                m1 = c.metrics()
                                p1 = {n: c.proc(n) for n, _ in roles}
                                idle = delta(m0, m1)
                                total = sum(idle.values()) / args.window
                                for n, role in roles:
                                        cpu = (p1[n][0] - p0[n][0]) / hz / args.window * 100
                                        print("%5d units, node%d (%s): RSS %.2f MB (peak %.2f MB, anonymous %.2f MB), PSS %.2f MB, "
                                              "CPU %.3f %% of a core" % (level, n, role, p1[n][1] / 1024,
                                                                         p1[n][2] / 1024, p1[n][4] / 1024,
                                                                         p1[n][3] / 1024, cpu), flush=True)
                                if level == levels[0]:
                                        print("      where the agent's RSS lies (RSS/PSS kB): " +
                                              ", ".join("%s %d/%d" % (n, r, p) for r, p, n in c.mappings(nodes[agent], 8)),
                                              flush=True)
                                print("%5d units, etcd: %.2f requests/s for %d idle fleetds = %.2f per agent (%s)"
                                      % (level, total, args.nodes, total / args.nodes,
                                         fmt_methods(idle, 1.0 / args.window)), flush=True)
                finally:
                        c.tool("down", check=False)
        return 0


if __name__ == "__main__":
        sys.exit(main())
