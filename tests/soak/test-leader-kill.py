#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# Killing etcd's leader stops nothing (issue 16), on cluster id 34: 3 machines, each running its own
# etcd member (tools/cluster up --etcd-per-machine), fleetd at agent_ttl 5 s, 15 units, and the CPUs
# oversubscribed (stress-ng --cpu 2 x cores, started and ended here by PID). Again and again the
# member that leads is SIGKILLed; the other two elect a leader while every agent's renewals wait.
# An agent stops its units a margin before its lease's local deadline unless a renewal gets through
# (fleetd/agent-fence.c), so an election that outlasts the keeper's renewal window makes agents stop
# and restart every unit although nothing failed: that is the spurious stop this test is about.
#
# cluster-sampler reads every machine's systemd unit cgroups every 100 ms; the test fails on any
# unit that stopped or got a new main PID on any machine, and on any "Fencing" in a fleetd's
# journal. It prints, per kill, how long the election took (kill to a new leader in every survivor's
# status) and how many agents reported their lease as EXPIRING.
#
#   test-leader-kill.py [KILLS]        (default 3, or $KILLS)
#   tests/repeat.sh 10 tests/soak/test-leader-kill.py 5      (the loop behind bench/README.md)

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soaklib  # noqa: E402
from soaklib import Cluster, wait_for  # noqa: E402

CID = int(os.environ.get("LEADER_KILL_CLUSTER", "34"))
TTL = 5
NODES = 3
UNITS = 15
BUILD = os.environ.get("TOP_BUILDDIR", os.path.join(soaklib.SRC, "build"))
SAMPLER = os.environ.get("CLUSTER_SAMPLER", os.path.join(BUILD, "tests", "cluster", "cluster-sampler"))
STRESS_NG = "/usr/bin/stress-ng"

count = failed = 0


def ok(cond, name):
        global count, failed
        count += 1
        if not cond:
                failed += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", count, name), flush=True)
        return cond


def diag(msg):
        for line in str(msg).splitlines():
                print("# " + line, flush=True)


def journal(c, n, pattern):
        """fleetd's journal lines of node n that contain pattern."""
        p = c.tool("exec", n, "journalctl", "-q", "--no-pager", "-o", "cat", "-u", "fleetd.service",
                   timeout=60, check=False)
        return [line for line in p.stdout.splitlines() if pattern in line]


def one_kill(c, s, members, units, k):
        """Kill the leading member; wait for a new leader, then a TTL and more; start it again."""
        # Every unit once with the PID it has now; the kill lands at no round in particular.
        w, _ = wait_for(lambda: soaklib.leader_member(members), 60, 0.2)
        if not w:
                ok(False, "kill %d: a member leads" % k)
                return None
        dead = w
        dead_id = (soaklib.member_status(members[dead - 1]) or (None,))[0]
        pids = {u: dict(s.snapshot().get(u, {})) for u in units}
        expiring = sum(len(journal(c, n, "was not renewed in time")) for n in range(1, NODES + 1))
        t0 = time.monotonic()
        c.tool("etcd-kill", dead)
        t_killed = time.monotonic() - t0        # the kill is somewhere in there
        survivors = [u for i, u in enumerate(members) if i + 1 != dead]

        def elected():
                st = [soaklib.member_status(u) for u in survivors]
                return all(x and x[1] not in (None, "0", dead_id) and x[1] == st[0][1] for x in st) and st[0][1]
        w, _ = wait_for(elected, 60, 0.05)
        t_elect = time.monotonic() - t0
        ok(w, "kill %d: e%d (the leader) killed, the others elect a leader (%.2fs after the kill command "
           "started, which took %.2fs)" % (k, dead, t_elect, t_killed))
        # A fence comes at most TTL - margin after the last renewal that got through: wait past it.
        time.sleep(TTL + 2)
        now = s.snapshot()
        changed = [u for u in units if now.get(u, {}) != pids[u]]
        stops = [(t, n, u) for t, kind, n, u, _ in s.events if t >= t0 and kind == "down"]
        ok(not changed and not stops, "kill %d: no unit stopped or restarted on any machine (%d changed, %d stops)"
           % (k, len(changed), len(stops)))
        for u in changed[:10]:
                diag("%s: %s before, %s after" % (u, pids[u], now.get(u)))
        expiring = sum(len(journal(c, n, "was not renewed in time")) for n in range(1, NODES + 1)) - expiring
        c.tool("etcd-start", dead, timeout=120)
        w, t = wait_for(lambda: len(soaklib.machines(c)) == NODES and
                        all(soaklib.member_status(u) for u in members), 60, 0.5)
        ok(w, "kill %d: e%d started again, every machine registered (%.1fs)" % (k, dead, t))
        return t_elect, expiring


def main():
        kills = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KILLS", "3"))
        if os.getuid() != 0:
                print("1..0 # SKIP needs root")
                return 0
        if not os.access(STRESS_NG, os.X_OK):
                print("1..0 # SKIP stress-ng not installed (apt-get install stress-ng)")
                return 0
        for f in (SAMPLER, os.path.join(BUILD, "fleetd", "fleetd")):
                if not os.access(f, os.X_OK):
                        print("Bail out! %s is not built" % f)
                        return 1

        c = Cluster(CID, BUILD)
        unit_dir = tempfile.mkdtemp(prefix="fleet-leader-kill-")
        s = stress = None
        try:
                c.up(NODES, TTL, per_machine=True)
                members = c.tool("etcd-endpoints").stdout.strip().split(",")
                w, t = wait_for(lambda: len(soaklib.machines(c)) == NODES and c.leader(), 120, 0.5)
                if not ok(w, "3 machines, each with its own etcd member, register (%.1fs)" % t):
                        return 1
                units = ["lk-%d.service" % k for k in range(UNITS)]
                for u in units:
                        with open(os.path.join(unit_dir, u), "w") as f:
                                f.write("[Unit]\nDescription=%s\n\n[Service]\nExecStart=/bin/sleep infinity\n" % u)
                s = soaklib.Sampler(SAMPLER, c.tool("cgroup").stdout.strip(), NODES, "lk-")
                p = c.fleetctl("start", "--no-block", *units, cwd=unit_dir)
                ok(p.returncode == 0, "fleetctl start %d units" % UNITS) or diag(p.stderr)
                w, t = wait_for(lambda: all(len(s.where(u)) == 1 for u in units), 120)
                if not ok(w, "every unit runs once (%.1fs)" % t):
                        return 1
                fences0 = sum(len(journal(c, n, "Fencing:")) for n in range(1, NODES + 1))

                stress = subprocess.Popen([STRESS_NG, "--cpu", str(2 * (os.cpu_count() or 1)), "--timeout",
                                           "%ds" % (600 + 120 * kills)],    # a bound only: the finally ends it
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          start_new_session=True)  # its own group: nothing else signals it
                rounds = []
                for k in range(1, kills + 1):
                        r = one_kill(c, s, members, units, k)
                        if r is None:
                                break
                        rounds.append(r)
                ok(stress.poll() is None, "stress-ng (%d CPU hogs) ran throughout" % (2 * (os.cpu_count() or 1))) or \
                        diag("stress-ng exited with %s" % stress.returncode)
                fences = sum(len(journal(c, n, "Fencing:")) for n in range(1, NODES + 1)) - fences0
                ok(fences == 0, "no agent fenced over %d kills of etcd's leader (%d fences)" % (len(rounds), fences))
                if rounds:
                        el = sorted(r[0] for r in rounds)
                        diag("elections over %d kills: least %.2fs, median %.2fs, longest %.2fs; "
                             "agents' EXPIRING: %d; load %s" % (len(el), el[0], el[len(el) // 2], el[-1],
                                                               sum(r[1] for r in rounds),
                                                               open("/proc/loadavg").read().split()[0]))
        except Exception as e:  # report, then tear down
                ok(False, "scenario raised %r" % e)
        finally:
                if stress and stress.poll() is None:
                        stress.terminate()
                        stress.wait()
                if s:
                        s.stop()
                c.tool("down", check=False)
                for f in os.listdir(unit_dir):
                        os.unlink(os.path.join(unit_dir, f))
                os.rmdir(unit_dir)
        print("1..%d" % count, flush=True)
        return 1 if failed else 0


if __name__ == "__main__":
        sys.exit(main())
