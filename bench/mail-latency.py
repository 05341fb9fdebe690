#!/usr/bin/env python3
"""Helper of bench/mail.sh: delivery latency, submit -> file in a Maildir's new/.

Run in the sending host's network namespace and the machine's mount namespace (so a
receiving host's Maildir is read through /proc/PID/root). Each variant is measured once
per round, the variants interleaved round after round, so drift hits them alike:

  NAME=smtp:PORT:RCPT:NEWDIR   submit over SMTP to 127.0.0.1:PORT, wait for the file
  NAME=floor:DIR               write, fsync and rename a file into DIR/new (the floor)

Prints one line per variant: NAME N P50_MS P95_MS MEAN_MS MAX_MS.
"""
import os
import smtplib
import statistics
import sys
import time

SENDER = "admin@example.test"
BODY = ("The quick brown fox jumps over the lazy dog. " * 20 + "\r\n") * 2
TIMEOUT = 30.0  # seconds one message may take before the run is called failed


def message(rcpt, token):
    return (
        f"From: {SENDER}\r\nTo: {rcpt}\r\nSubject: bench {token}\r\n"
        f"Message-ID: <{token}@mail.example.test>\r\n\r\ntoken {token}\r\n{BODY}"
    )


def wait_for(newdir, seen, token, t0):
    """Poll newdir until a file not in seen holds token; return the time it was seen."""
    deadline = t0 + TIMEOUT
    while True:
        now = time.monotonic()
        try:
            names = os.listdir(newdir)
        except FileNotFoundError:  # a Maildir is made by its first delivery
            names = []
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            with open(os.path.join(newdir, name), "rb") as f:
                if token.encode() in f.read():
                    return now
        if now > deadline:
            sys.exit(f"no message {token} in {newdir} after {TIMEOUT}s")
        time.sleep(0.0005)


def smtp_once(port, rcpt, newdir, seen, token):
    msg = message(rcpt, token)
    t0 = time.monotonic()
    with smtplib.SMTP("127.0.0.1", int(port), "mail.example.test", timeout=TIMEOUT) as s:
        s.sendmail(SENDER, [rcpt], msg)
    return wait_for(newdir, seen, token, t0) - t0


def floor_once(base, seen, token):
    msg = message("carol@example.test", token).encode()
    t0 = time.monotonic()
    tmp = os.path.join(base, "tmp", token)
    with open(tmp, "wb") as f:
        f.write(msg)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, os.path.join(base, "new", token))
    return wait_for(os.path.join(base, "new"), seen, token, t0) - t0


def main():
    count, warmup = int(sys.argv[1]), int(sys.argv[2])
    variants = []
    for spec in sys.argv[3:]:
        name, _, rest = spec.partition("=")
        kind, *args = rest.split(":")
        newdir = args[2] if kind == "smtp" else os.path.join(args[0], "new")
        if kind == "floor":
            for d in ("tmp", "new"):
                os.makedirs(os.path.join(args[0], d), exist_ok=True)
        seen = set(os.listdir(newdir)) if os.path.isdir(newdir) else set()
        variants.append((name, kind, args, seen, []))
    for i in range(warmup + count):
        for name, kind, args, seen, times in variants:
            token = f"bench-{name}-{i}-{os.getpid()}"
            if kind == "smtp":
                dt = smtp_once(args[0], args[1], args[2], seen, token)
            else:
                dt = floor_once(args[0], seen, token)
            if i >= warmup:
                times.append(dt * 1000)
    for name, _, _, _, times in variants:
        p95 = statistics.quantiles(times, n=20)[18] if len(times) > 1 else times[0]
        print(f"{name} {len(times)} {statistics.median(times):.2f} {p95:.2f} "
              f"{statistics.fmean(times):.2f} {max(times):.2f}")


if __name__ == "__main__":
    main()
