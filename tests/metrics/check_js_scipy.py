"""The JS divergence and class histograms of metrics/divergence.h against scipy and numpy: reads the cases
tests/metrics/test_divergence.cpp (Divergence.RandomCasesForScipy) wrote to GANLEAKS_JS_CASES and recomputes
them with scipy.spatial.distance.jensenshannon(p, q) ** 2 (natural log; scipy returns the distance, the
square root of the divergence), in 50-digit arithmetic (mpmath, which torch's sympy brings), and class
histograms with numpy.bincount(labels) / len(labels).

usage: check_js_scipy.py CASES_FILE
"""
import sys

import mpmath
import numpy as np
from scipy.spatial.distance import jensenshannon

mpmath.mp.dps = 50


def exact_js(p, q):
    """The divergence in 50-digit arithmetic from the very same float64 inputs."""
    p = [mpmath.mpf(float(x)) for x in p]
    q = [mpmath.mpf(float(x)) for x in q]
    sp, sq = mpmath.fsum(p), mpmath.fsum(q)
    total = mpmath.mpf(0)
    for a, b in zip(p, q):
        a, b = a / sp, b / sq
        m = (a + b) / 2
        total += (a * mpmath.log(a / m) if a else 0) + (b * mpmath.log(b / m) if b else 0)
    return total / 2


def main():
    js_cases = hist_cases = zero_bins = 0
    worst = worst_exact = 0.0
    with open(sys.argv[1]) as f:
        for line in f:
            kind, rest = line.split(" ", 1)
            a, b, result = (np.array(part.split(), dtype=np.float64) for part in rest.split("|"))
            if kind == "js":
                reference = jensenshannon(a, b) ** 2
                diff = abs(result[0] - reference)
                worst = max(worst, diff / max(reference, 1e-300))
                # scipy sums terms of both signs: its absolute error is ~1e-16, relative error larger for tiny JS
                assert diff <= 1e-15 + 1e-12 * reference, (a, b, result[0], reference)
                exact = exact_js(a, b)
                rel_exact = float(abs(mpmath.mpf(float(result[0])) - exact) / exact) if exact else abs(result[0])
                worst_exact = max(worst_exact, rel_exact)
                assert rel_exact <= 1e-13, (a, b, result[0], exact)
                js_cases += 1
                zero_bins += int((a == 0).any() or (b == 0).any())
            elif kind == "hist":
                labels, classes = a.astype(np.int64), int(b[0])
                reference = np.bincount(labels, minlength=classes) / len(labels)
                assert reference.shape == result.shape and np.allclose(result, reference, rtol=0, atol=1e-15), (
                    labels, classes, result, reference)
                hist_cases += 1
            else:
                raise SystemExit(f"{sys.argv[1]}: unknown case kind {kind!r}")
    assert js_cases >= 200 and hist_cases >= 20 and zero_bins > 100, (js_cases, hist_cases, zero_bins)
    print(f"{js_cases} JS cases ({zero_bins} with empty bins) agree with scipy jensenshannon**2 "
          f"(largest relative difference {worst:.2e}; to 50-digit arithmetic {worst_exact:.2e}); "
          f"{hist_cases} class histograms agree with numpy.bincount")


if __name__ == "__main__":
    main()
