#!/usr/bin/env python3
"""A DNS forwarder that answers every query DELAY milliseconds late (UDP and TCP), for
bench/validate.sh: these kernels have no netem qdisc, so latency is added here. Each
query's bytes are appended to LOG (`TIME q HEX`, one a line) and each answer's time
(`TIME a`), so the same queries can then be replayed one after another (`replay`) for
the sequential baseline, and the span of the DNS traffic measured (`span`).

  dns-delay.py serve LISTEN UPSTREAM DELAY_MS LOG
  dns-delay.py replay SERVER LOG        prints the wall time in ms and the query count
  dns-delay.py span LOG                 ms from the first query to the last answer
  dns-delay.py timeline LOG             each query's offset in ms, with its name and type
"""
import socket
import struct
import sys
import threading
import time


def ask_upstream(upstream, msg, tcp):
    if tcp:
        with socket.create_connection((upstream, 53), timeout=3) as s:
            s.sendall(struct.pack("!H", len(msg)) + msg)
            n = struct.unpack("!H", recv_exact(s, 2))[0]
            return recv_exact(s, n)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(msg, (upstream, 53))
        return s.recv(65535)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve(listen, upstream, delay_ms, log):
    lock = threading.Lock()
    delay = delay_ms / 1000.0

    def note(msg):
        with lock, open(log, "a") as f:
            f.write("%.6f q %s\n" % (time.time(), msg.hex()))

    def answered():
        with lock, open(log, "a") as f:
            f.write("%.6f a\n" % time.time())

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((listen, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((listen, 53))
    tcp.listen(64)

    def udp_one(msg, peer):
        note(msg)
        time.sleep(delay)
        try:
            udp.sendto(ask_upstream(upstream, msg, False), peer)
            answered()
        except OSError:
            pass

    def tcp_conn(c):
        with c:
            try:
                while True:
                    n = struct.unpack("!H", recv_exact(c, 2))[0]
                    msg = recv_exact(c, n)
                    note(msg)
                    time.sleep(delay)
                    ans = ask_upstream(upstream, msg, True)
                    c.sendall(struct.pack("!H", len(ans)) + ans)
                    answered()
            except (EOFError, OSError):
                pass

    def tcp_loop():
        while True:
            c, _ = tcp.accept()
            threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()

    threading.Thread(target=tcp_loop, daemon=True).start()
    print("ready", flush=True)
    while True:
        msg, peer = udp.recvfrom(65535)
        threading.Thread(target=udp_one, args=(msg, peer), daemon=True).start()


def entries(log):
    return [line.split() for line in open(log) if line.strip()]


def span(log):
    times = [float(e[0]) for e in entries(log)]
    print("%.1f" % ((max(times) - min(times)) * 1000 if times else 0))


def replay(server, log):
    msgs = [bytes.fromhex(e[2]) for e in entries(log) if e[1] == "q"]
    t0 = time.monotonic()
    for m in msgs:
        ask_upstream(server, m, False)
    print("%.1f %d" % ((time.monotonic() - t0) * 1000, len(msgs)))


def question(msg):
    """The name and type asked in a DNS message."""
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        labels.append(msg[i + 1 : i + 1 + msg[i]].decode("ascii", "replace"))
        i += 1 + msg[i]
    qtype = int.from_bytes(msg[i + 1 : i + 3], "big") if i + 3 <= len(msg) else 0
    names = {1: "A", 28: "AAAA", 16: "TXT", 15: "MX", 12: "PTR", 52: "TLSA", 48: "DNSKEY", 6: "SOA"}
    return ".".join(labels) + ".", names.get(qtype, str(qtype))


def timeline(log):
    """Each query's offset from the first, in ms, with its question."""
    es = entries(log)
    if not es:
        return
    t0 = float(es[0][0])
    for e in es:
        if e[1] == "q":
            name, qtype = question(bytes.fromhex(e[2]))
            print("%7.1f %-5s %s" % ((float(e[0]) - t0) * 1000, qtype, name))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "replay":
        replay(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "timeline":
        timeline(sys.argv[2])
    elif sys.argv[1] == "span":
        span(sys.argv[2])
    else:
        sys.exit(__doc__)
