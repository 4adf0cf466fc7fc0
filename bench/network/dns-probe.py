#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# A DNS client for bench-names.sh, run inside a node (or a container's network namespace): plain
# UDP queries (type A) to the machine's cluster DNS, timed with CLOCK_MONOTONIC, which the nodes
# share with their systemd (so "resolved at" compares with a unit's ActiveEnterTimestampMonotonic).
#
#   dns-probe.py wait SERVER OUT NAME...   create OUT once the server answers, then query each NAME
#                                          in turn every millisecond until it has an address; append
#                                          "NAME MONOTONIC_USEC ADDRESS" to OUT
#   dns-probe.py latency SERVER COUNT NAME query NAME COUNT times, one at a time; print
#                                          "p50 p90 p99 max" in microseconds and the answer kind
import os
import socket
import struct
import sys
import time


def packet(qid, name):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", 1, 1)


class Client:
    def __init__(self, server):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.connect((server, 53))
        self.s.settimeout(1.0)
        self.qid = os.getpid() & 0xffff

    def ask(self, name):
        """(rcode, address or None); (None, None) on a timeout."""
        self.qid = (self.qid + 1) & 0xffff
        self.s.send(packet(self.qid, name))
        while True:
            try:
                r = self.s.recv(1500)
            except socket.timeout:
                return None, None
            qid, flags, _, an = struct.unpack(">HHHH", r[:8])
            if qid != self.qid:
                continue        # a late answer to an earlier query
            # With one A answer its address is the last 4 bytes (no authority/additional: --local).
            return flags & 0xf, socket.inet_ntoa(r[-4:]) if an > 0 and len(r) >= 16 else None


def wait(server, out, names):
    c = Client(server)
    # Ready once the server answers (NXDOMAIN, most likely): OUT exists from then on, and the
    # caller starts the units only when every probe is ready.
    while c.ask(names[0])[0] is None:
        pass
    open(out, "a").close()
    for name in names:
        while True:
            rcode, addr = c.ask(name)
            if addr:
                with open(out, "a") as f:
                    f.write("%s %d %s\n" % (name, time.monotonic_ns() // 1000, addr))
                break
            time.sleep(0.001)


def latency(server, count, name):
    c = Client(server)
    samples, kinds = [], {}
    for _ in range(count):
        t0 = time.monotonic_ns()
        rcode, addr = c.ask(name)
        t1 = time.monotonic_ns()
        kind = "timeout" if rcode is None else "address" if addr else "NXDOMAIN" if rcode == 3 else "rcode%d" % rcode
        kinds[kind] = kinds.get(kind, 0) + 1
        if rcode is not None:
            samples.append((t1 - t0) / 1000)
    samples.sort()
    p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
    print("%.0f %.0f %.0f %.0f %s" % (p(.5), p(.9), p(.99), samples[-1],
                                      ",".join("%s:%d" % kv for kv in sorted(kinds.items()))))


if __name__ == "__main__":
    if sys.argv[1] == "wait":
        wait(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "latency":
        latency(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: dns-probe.py wait SERVER OUT NAME... | latency SERVER COUNT NAME")
