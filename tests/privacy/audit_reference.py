"""The audit bounds from their published formulas with scipy (issue #20), for check_audit_bounds.py (against
`ganleaks audit-bound`) and tests/e2e/check_audit.py (against the audit task's stored scores):
- multi-run (Jagielski et al. 2020): FPR/FNR upper ends = scipy.stats.beta.ppf(1 - (1 - c)/2, k + 1, T - k), 1 when
  k = T; epsilon_lb = max(ln((1 - delta - FPR)/FNR), ln((1 - delta - FNR)/FPR), 0);
- Gaussian DP (Dong, Roth & Su 2019): mu = Phi^-1(1 - FPR) - Phi^-1(FNR), epsilon where
  Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2) = delta, by scipy.optimize.brentq;
- one-run (Steinke, Nasr & Jagielski 2023, Thm 5.2): p(eps) = P[Binom(r, e^eps/(1+e^eps)) >= v]
  + 2 m delta max_i P[v > Binom >= v - i] / i (capped at 1); epsilon_lb = the root of p(eps) = 1 - c (brentq), 0
  when p(0) >= 1 - c."""
import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import log_ndtr
from scipy.stats import beta, binom, norm


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
