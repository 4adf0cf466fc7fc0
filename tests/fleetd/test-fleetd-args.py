#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
#
# The fleetd binary's command line: --version and --help, and a bad configuration (file,
# environment or flag) reported on stderr with its origin, exit status 1, before fleetd touches
# anything (no etcd, no systemd needed: it must fail before reaching them).

import os
import subprocess
import sys
import tempfile

FLEETD = os.environ.get("FLEETD", "")
count = 0
failed = 0


def ok(cond, name):
    global count, failed
    count += 1
    failed += 0 if cond else 1
    print("%s %d - %s" % ("ok" if cond else "not ok", count, name), flush=True)


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("FLEET_")}
    e.update(env or {})
    return subprocess.run([FLEETD] + list(args), capture_output=True, text=True, timeout=20, env=e)


if not FLEETD or not os.access(FLEETD, os.X_OK):
    print("1..0 # SKIP fleetd is not built", flush=True)
    sys.exit(0)

p = run("--version")
ok(p.returncode == 0 and p.stdout.strip() == "fleetd version 0.1.0", "--version")
p = run("--help")
ok(p.returncode == 0 and "--agent_ttl" in p.stdout, "--help lists the options")

with tempfile.TemporaryDirectory() as d:
    conf = os.path.join(d, "fleet.conf")
    with open(conf, "w") as f:
        f.write("# test\netcd_servers=http://127.0.0.1:1\nagent_ttl=1s\n")
    p = run("--config=" + conf)
    ok(p.returncode == 1, "a bad file value exits with status 1")
    ok(p.stderr.strip() == "%s:3: agent_ttl: '1s' is below the minimum of 2s" % conf,
       "and names file, line, key and problem (%r)" % p.stderr.strip())

    with open(conf, "w") as f:
        f.write("etcd_servers=http://127.0.0.1:1\nbogus=1\n")
    p = run("--config", conf)
    ok(p.returncode == 1 and p.stderr.strip() == "%s:2: bogus: unknown option" % conf, "an unknown option")

    p = run("--config=" + os.path.join(d, "missing.conf"))
    ok(p.returncode == 1 and "No such file or directory" in p.stderr, "an explicit missing file")

p = run("--metadata=a=b,c")
ok(p.returncode == 1 and p.stderr.strip() == "--metadata: 'c' is not of the form key=value", "a bad flag")
p = run(env={"FLEET_PUBLIC_IP": "300.1.1.1"})
ok(p.returncode == 1 and p.stderr.strip() == "$FLEET_PUBLIC_IP: public_ip: '300.1.1.1' is not an IP address",
   "a bad environment variable")
p = run("--etcd_servers=10.0.0.1:2379")
ok(p.returncode == 1 and "is not an http:// or https:// URL" in p.stderr, "an endpoint without a scheme")
ok(p.stdout == "", "nothing on stdout")

print("1..%d" % count, flush=True)
sys.exit(1 if failed else 0)
