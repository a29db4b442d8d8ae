"""LiRA and RMIA scores (src/attacks/shadow_scores.h) against an independent numpy/scipy computation of the
published formulas, through the test-only driver tests/attacks/shadow_tool, on random signals, to 1e-10:
- LiRA online (Carlini et al. 2022, Eq. 4): log N(s; mu_in, sigma_in^2) - log N(s; mu_out, sigma_out^2) with
  scipy.stats.norm.logpdf, per-query means and maximum-likelihood standard deviations (numpy.std, ddof 0) or one
  spread pooled over every query's deviations from its own mean; sigma + 1e-30 as in the authors' plot.py;
- LiRA offline, one-sided: scipy.special.log_ndtr((s - mu_out) / sigma_out);
- RMIA (Zarifzadeh et al. 2024): Pr(x) the mean over all shadows (online) or (1+a)/2 * mean over OUT shadows
  + (1-a)/2 (offline, as ml_privacy_meter's run_rmia), score = mean over z of [ratio_x / ratio_z > gamma].
usage: check_shadow_scores.py SHADOW_TOOL"""
import subprocess
import sys

import numpy as np
from scipy.special import log_ndtr
from scipy.stats import norm

tool = sys.argv[1]
rng = np.random.default_rng(20261206)


def fits(signal, keep, side, spread):
    values = [signal[q][keep[q] == side] for q in range(len(signal))]
    mean = np.array([v.mean() for v in values])
    std = np.array([v.std() for v in values])
    if spread == "global":
        residual = np.concatenate([v - v.mean() for v in values])
        std = np.full(len(values), np.sqrt(np.mean(residual ** 2)))
    return mean, std + 1e-30


def lira(mode, spread, target, signal, keep):
    mean_out, std_out = fits(signal, keep, 0, spread)
    if mode == "offline":
        return log_ndtr((target - mean_out) / std_out)
    mean_in, std_in = fits(signal, keep, 1, spread)
    return norm.logpdf(target, mean_in, std_in) - norm.logpdf(target, mean_out, std_out)


def rmia(mode, a, gamma, target_x, px, keep, target_z, pz):
    if mode == "online":
        marginal_x, marginal_z = px.mean(1), pz.mean(1)
    else:
        out_mean = np.array([px[q][keep[q] == 0].mean() for q in range(len(px))])
        marginal_x = (1 + a) / 2 * out_mean + (1 - a) / 2
        marginal_z = (1 + a) / 2 * pz.mean(1) + (1 - a) / 2
    ratio_x, ratio_z = target_x / marginal_x, target_z / marginal_z
    return np.mean(ratio_x[:, None] / ratio_z[None, :] > gamma, axis=1)


def words(*parts):
    out = []
    for p in parts:
        out += [repr(float(x)) for x in np.ravel(p)] if isinstance(p, np.ndarray) else [str(p)]
    return " ".join(out)


cases, expected = [], []
for i in range(40):
    q, k = int(rng.integers(1, 60)), 2 * int(rng.integers(2, 20))
    keep = np.array([rng.permutation(np.arange(k) % 2) for _ in range(q)])  # each query IN for exactly half
    shift = rng.normal(size=(q, 1)) * 5
    signal = rng.normal(size=(q, k)) * rng.uniform(0.1, 3) + shift + keep * rng.uniform(0, 2)
    target = rng.normal(size=q) + shift[:, 0] + rng.uniform(-3, 3)
    mode, spread = ["online", "offline"][i % 2], ["per-query", "global"][(i // 2) % 2]
    cases.append(words("lira", mode, spread, q, k, target, signal, keep))
    expected.append(lira(mode, spread, target, signal, keep))
for i in range(20):
    q, z, k = int(rng.integers(1, 40)), int(rng.integers(1, 300)), 2 * int(rng.integers(1, 10))
    keep = np.array([rng.permutation(np.arange(k) % 2) for _ in range(q)])
    px = rng.uniform(0.01, 1, size=(q, k)) ** (1 + keep)
    pz = rng.uniform(0.01, 1, size=(z, k))
    target_x, target_z = rng.uniform(0.01, 1, size=q), rng.uniform(0.01, 1, size=z)
    mode, a, gamma = ["online", "offline"][i % 2], float(rng.uniform(0, 1)), float(rng.choice([1.0, 1.5, 2.0]))
    cases.append(words("rmia", mode, a, gamma, q, z, k, target_x, px, keep, target_z, pz))
    expected.append(rmia(mode, a, gamma, target_x, px, keep, target_z, pz))

out = subprocess.run([tool], input="\n".join(cases), capture_output=True, text=True)
assert out.returncode == 0, f"shadow_tool failed: {out.stderr}"
lines = out.stdout.strip().splitlines()
assert len(lines) == len(cases), f"{len(lines)} answers for {len(cases)} cases"
worst = 0.0
for n, (line, want) in enumerate(zip(lines, expected)):
    got = np.array([float(x) for x in line.split()])
    error = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
    worst = max(worst, error)
    assert error <= 1e-10, f"case {n} ({cases[n][:20]}...): max relative error {error:.3g}"
print(f"{len(cases)} LiRA/RMIA cases agree with numpy/scipy; worst relative error {worst:.3g}")
