#!/usr/bin/env python3
"""Turns every fixture bundle into one fuzz input: its files joined by 0xFF bytes."""
import os

here = os.path.dirname(os.path.abspath(__file__))
fixtures = os.path.join(here, "..", "fixtures")
out = os.path.join(here, "corpus", "bundle")
os.makedirs(out, exist_ok=True)
order = ["describe-stacks.json", "describe-cluster.json", "describe-subnets.json",
         "describe-security-groups.json", "get-template.json", "describe-stack-resources.json", "capture.json"]
n = 0
for name in sorted(os.listdir(fixtures)):
    d = os.path.join(fixtures, name)
    if not os.path.isdir(d):
        continue
    parts = []
    for f in order:
        p = os.path.join(d, f)
        if not os.path.exists(p):
            break
        parts.append(open(p, "rb").read())
    with open(os.path.join(out, name), "wb") as fh:
        fh.write(b"\xff".join(parts))
    n += 1
print(f"wrote {n} seeds to {out}")
