"""`ganleaks audit-bound` against scipy, from the published formulas (tests/privacy/audit_reference.py), to 1e-6.
(The null check, canaries never trained on, is tests/privacy/test_audit_bounds.cpp's, in process.)
usage: check_audit_bounds.py GANLEAKS"""
import math
import subprocess
import sys

import numpy as np

from audit_reference import multi_run, one_run

tool = sys.argv[1]
rng = np.random.default_rng(20)


def run(*args):
    out = subprocess.run([tool, "audit-bound", *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"audit-bound {args}: {out.stderr}"
    return {k.strip(): float(v) for k, v in (line.split("=") for line in out.stdout.strip().splitlines())}


def close(a, b, what):
    if math.isinf(b):
        assert a == b, f"{what}: ganleaks {a}, scipy {b}"
        return
    assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), f"{what}: ganleaks {a}, scipy {b}"


cases = 0
for _ in range(25):
    t = int(rng.integers(1, 2000))
    f, n = int(rng.integers(0, t + 1)), int(rng.integers(0, t + 1))
    if rng.random() < 0.5:  # mostly a good attack: few errors
        f, n = int(rng.integers(0, max(1, t // 20) + 1)), int(rng.integers(0, max(1, t // 10) + 1))
    delta, c = float(rng.choice([0.0, 1e-5, 1e-3])), float(rng.choice([0.9, 0.95, 0.99]))
    got = run("--false-positives", f, "--false-negatives", n, "--trials", t, "--delta", delta, "--confidence", c, "--gdp")
    eps, fpr, fnr, mu, gdp = multi_run(f, n, t, delta, c)
    for key, want in (("epsilon_lb", eps), ("fpr_upper", fpr), ("fnr_upper", fnr), ("gdp_mu_lb", mu), ("gdp_epsilon_lb", gdp)):
        close(got[key], want, f"multi-run F={f} N={n} T={t} delta={delta} c={c}: {key}")
    cases += 1
for _ in range(20):
    m = int(rng.integers(10, 3000))
    r = int(rng.integers(1, m + 1))
    v = int(rng.binomial(r, rng.uniform(0.5, 1.0)))
    delta, c = float(rng.choice([0.0, 1e-6, 1e-4])), float(rng.choice([0.9, 0.95]))
    got = run("--one-run", "--canaries", m, "--guesses", r, "--correct", v, "--delta", delta, "--confidence", c)
    close(got["epsilon_lb"], one_run(m, r, v, delta, c), f"one-run m={m} r={r} v={v} delta={delta} c={c}")
    cases += 1

print(f"{cases} audit bounds agree with scipy to 1e-6")
