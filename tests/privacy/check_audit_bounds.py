"""`ganleaks audit-bound` against scipy, from the published formulas (issue #20), to 1e-6:
- multi-run (Jagielski et al. 2020): FPR/FNR upper ends = scipy.stats.beta.ppf(1 - (1 - c)/2, k + 1, T - k), 1 when
  k = T; epsilon_lb = max(ln((1 - delta - FPR)/FNR), ln((1 - delta - FNR)/FPR), 0);
- Gaussian DP (Dong, Roth & Su 2019): mu = Phi^-1(1 - FPR) - Phi^-1(FNR), epsilon where
  Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2) = delta, by scipy.optimize.brentq;
- one-run (Steinke, Nasr & Jagielski 2023, Thm 5.2): p(eps) = P[Binom(r, e^eps/(1+e^eps)) >= v]
  + 2 m delta max_i P[v > Binom >= v - i] / i (capped at 1); epsilon_lb = the root of p(eps) = 1 - c (brentq), 0
  when p(0) >= 1 - c.
(The null check, canaries never trained on, is tests/privacy/test_audit_bounds.cpp's, in process.)
usage: check_audit_bounds.py GANLEAKS"""
import math
import subprocess
import sys

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr
from scipy.stats import beta, binom, norm

tool = sys.argv[1]
rng = np.random.default_rng(20)


def run(*args):
    out = subprocess.run([tool, "audit-bound", *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"audit-bound {args}: {out.stderr}"
    return {k.strip(): float(v) for k, v in (line.split("=") for line in out.stdout.strip().splitlines())}


def upper(k, t, c):
    return 1.0 if k == t else beta.ppf(1 - (1 - c) / 2, k + 1, t - k)


def multi_run(f, n, t, delta, c):
    fpr, fnr = upper(f, t, c), upper(n, t, c)
    bounds = [math.log((1 - delta - y) / x) for x, y in ((fnr, fpr), (fpr, fnr)) if 1 - delta - y > 0]
    eps = max([0.0] + bounds)
    mu = max(0.0, norm.ppf(1 - fpr) - norm.ppf(fnr)) if fpr < 1 and fnr < 1 else 0.0
    delta_at = lambda e: norm.cdf(-e / mu + mu / 2) - math.exp(e + log_ndtr(-e / mu - mu / 2))
    if mu <= 0:
        gdp = 0.0
    elif delta == 0:
        gdp = math.inf  # mu-GDP is (eps, 0)-DP for no finite eps
    else:
        gdp = 0.0 if delta_at(0) <= delta else brentq(lambda e: delta_at(e) - delta, 0, 1000, xtol=1e-12)
    return eps, fpr, fnr, mu, gdp


def p_value(m, r, v, eps, delta):
    q = 1 / (1 + math.exp(-eps))
    p = binom.sf(v - 1, r, q)
    if delta > 0 and v > 0:
        below = np.cumsum(binom.pmf(np.arange(v - 1, -1, -1), r, q))  # P[v > B >= v - i] for i = 1 .. v
        p += 2 * m * delta * np.max(below / np.arange(1, v + 1))
    return min(p, 1.0)


def one_run(m, r, v, delta, c):
    alpha = 1 - c
    if p_value(m, r, v, 0, delta) >= alpha:
        return 0.0
    hi = 1.0
    while p_value(m, r, v, hi, delta) < alpha:
        hi *= 2
    return brentq(lambda e: p_value(m, r, v, e, delta) - alpha, 0, hi, xtol=1e-12)


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
