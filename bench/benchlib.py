# SPDX-License-Identifier: Apache-2.0
"""What the cluster benchmarks share: a local cluster of this tree (tools/cluster) running the build's
fleetd, with fleetctl and etcdctl pointed at it, and a bounded wait."""

import base64
import json
import os
import subprocess
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PREFIX = "/_coreos.com/fleet/"


class Cluster:
        def __init__(self, cid, build):
                self.cid = str(cid)
                self.fleetd_path = os.path.join(build, "fleetd", "fleetd")
                self.fleetctl_path = os.path.join(build, "cli", "fleetctl")
                self.env = dict(os.environ)
                self.own_requests = 0   # requests this script sent to etcd (benchmarks subtract them)

        def tool(self, *args, timeout=120, check=True):
                p = subprocess.run([os.path.join(SRC, "tools", "cluster"), "-c", self.cid] + [str(a) for a in args],
                                   capture_output=True, text=True, timeout=timeout)
                if check and p.returncode != 0:
                        raise RuntimeError("tools/cluster %s: %s" % (" ".join(map(str, args)), p.stderr.strip()))
                return p

        def up(self, nodes, ttl, per_machine=False):
                """Boot nodes running this build's fleetd with agent_ttl ttl; etcd is one member on the
                host, or with per_machine one member in every node (the CoreOS shape)."""
                self.tool("down")
                etcd = ["--etcd-per-machine"] if per_machine else [1]
                self.tool("up", nodes, *etcd, "--fleetd", self.fleetd_path, "--agent-ttl", "%ds" % ttl,
                          timeout=600)
                for line in self.tool("env").stdout.splitlines():
                        if line.startswith("export "):
                                k, _, v = line[len("export "):].partition("=")
                                self.env[k] = v.strip('"')

        def etcdctl(self, *args, timeout=60):
                self.own_requests += 1
                return subprocess.run(["etcdctl"] + list(args), capture_output=True, text=True, timeout=timeout,
                                      env=self.env)

        def fleetctl(self, *args, timeout=600, cwd=None):
                return subprocess.run([self.fleetctl_path] + list(args), capture_output=True, text=True,
                                      timeout=timeout, env=self.env, cwd=cwd)

        def get_prefix(self, sub):
                """{key suffix after P sub: decoded JSON value} and the store revision."""
                p = self.etcdctl("get", "--prefix", PREFIX + sub, "-w", "json")
                d = json.loads(p.stdout)
                out = {base64.b64decode(kv["key"]).decode()[len(PREFIX + sub):]:
                       json.loads(base64.b64decode(kv["value"])) for kv in d.get("kvs", [])}
                return out, int(d["header"]["revision"])

        def machines(self):
                """machine id -> node number."""
                m, _ = self.get_prefix("machines/")
                return {rec["id"]: int(rec["hostname"][4:]) for rec in m.values()}

        def leader(self):
                rec, _ = self.get_prefix("engine/leader")
                return rec.get("", {}).get("machine_id")


def wait_for(pred, bound, step=0.2):
        """pred()'s first true value, or its last value once bound seconds have passed."""
        end = time.monotonic() + bound
        while True:
                v = pred()
                if v or time.monotonic() > end:
                        return v
                time.sleep(step)
