"""The sample refiners of accuracy extraction (src/extraction/refine.h) against the field's references, through the
test-only driver tests/extraction/refine_tool:
- isotonic calibration == sklearn.isotonic.IsotonicRegression(increasing=True, out_of_bounds="clip") to 1e-12
  on random data with ties, at the training scores, between them and outside their range;
- Platt scaling: A, B == sklearn.calibration._sigmoid_calibration to 1e-6 relative (sklearn stops L-BFGS at
  gtol 1e-6; our Newton iteration reaches the optimum to rounding, checked by the objective's gradient here);
- MH independence chains == a transcription of Turner et al.'s mh_sample / enhance_samples restart
  (uber-research/metropolis-hastings-gans, mhgan/mh.py and demo_mhgan.py), on the same uniforms;
- DRS == the formula of Azadi et al. (as in Turner et al.'s rejection_sample) with numpy.percentile for γ.
usage: check_calibration.py REFINE_TOOL"""
import subprocess
import sys

import numpy as np
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

tool = sys.argv[1]
rng = np.random.default_rng(20240607)


def run(cases):
    """Feeds the cases (lists of numbers/words) to refine_tool in one process; returns one list per case."""
    text = "\n".join(" ".join(x if isinstance(x, str) else repr(float(x)) if isinstance(x, float) else str(x)
                              for x in case) for case in cases)
    out = subprocess.run([tool], input=text, capture_output=True, text=True)
    assert out.returncode == 0, f"refine_tool failed: {out.stderr}"
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(cases), f"{len(lines)} answers for {len(cases)} cases"
    return [line.split() for line in lines]


def calibration_case(kind, scores, labels, queries):
    case = [kind, len(scores)]
    for s, y in zip(scores, labels):
        case += [float(s), int(y)]
    return case + [len(queries)] + [float(q) for q in queries]


def random_calibration_data(i):
    n = int(rng.integers(2, 3000)) if i % 5 else int(rng.integers(2, 12))
    scale = [0.3, 1.0, 5.0, 40.0, 1000.0][i % 5]  # >= 30: sklearn's Platt rescales internally
    labels = rng.random(n) < rng.uniform(0.1, 0.9)
    labels[0], labels[-1] = True, False  # both classes present
    scores = (rng.normal(size=n) + rng.uniform(0.0, 2.0) * labels) * scale
    if i % 3 == 0:
        scores = np.round(scores, 1)  # many ties, between and within classes
    elif i % 3 == 1:
        scores = np.round(scores / scale * 4) * scale / 4  # few distinct values
    if i == 7:
        scores = np.full(n, 0.5)  # one distinct score
    return scores, labels.astype(np.uint8)


# ----- isotonic ----------------------------------------------------------------------------------------------
cases, expected = [], []
for i in range(60):
    scores, labels = random_calibration_data(i)
    lo, hi = scores.min(), scores.max()
    queries = np.concatenate([scores[:200], rng.uniform(lo - 1, hi + 1, 300), [lo, hi, lo - 1e9, hi + 1e9]])
    cases.append(calibration_case("isotonic", scores, labels, queries))
    expected.append(IsotonicRegression(increasing=True, out_of_bounds="clip").fit(scores, labels).predict(queries))
# sklearn's tie resolution (numpy's float64 resolution 1e-15, absolute).
scores = np.array([0.0, 4e-16, 8e-16, 1.2e-15, 1.0, 1.0 + 1e-15, 2.0])
labels = np.array([0, 1, 1, 0, 0, 1, 1], dtype=np.uint8)
queries = np.array([0.0, 1e-15, 0.5, 1.0, 1.5, 2.0])
cases.append(calibration_case("isotonic", scores, labels, queries))
expected.append(IsotonicRegression(increasing=True, out_of_bounds="clip").fit(scores, labels).predict(queries))
worst = 0.0
for case, answer, reference in zip(cases, run(cases), expected):
    got = np.array(answer[1:], dtype=float)
    assert got.shape == reference.shape, (got.shape, reference.shape)
    err = np.max(np.abs(got - reference))
    assert err <= 1e-12, f"isotonic case with n = {case[1]}: max |ours - sklearn| = {err}"
    worst = max(worst, err)
print(f"isotonic: {len(cases)} cases, max |ours - sklearn IsotonicRegression| = {worst:.3g}")


# ----- Platt -------------------------------------------------------------------------------------------------
def platt_targets(labels):
    n_pos = labels.sum()
    n_neg = len(labels) - n_pos
    return np.where(labels == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))


def platt_gradient(a, b, scores, labels):
    """Gradient of Platt's objective per sample, in (A·max|s|, B) so that both entries are dimensionless."""
    t = platt_targets(labels)
    scale = np.max(np.abs(scores))
    p = 1.0 / (1.0 + np.exp(a * scores + b))
    return np.array([np.sum(scores / scale * (t - p)), np.sum(t - p)]) / len(scores)


def polished(a, b, scores, labels):
    """sklearn's (A, B) polished to the exact optimum of the same objective: plain Newton steps in numpy from
    sklearn's solution, which is already in the quadratic basin (the objective is strictly convex)."""
    t = platt_targets(labels)
    scale = np.max(np.abs(scores))
    f = scores / scale
    ab = np.array([a * scale, b])
    for _ in range(6):
        p = 1.0 / (1.0 + np.exp(ab[0] * f + ab[1]))
        d = p * (1.0 - p)
        gradient = np.array([np.sum(f * (t - p)), np.sum(t - p)])
        hessian = np.array([[np.sum(f * f * d), np.sum(f * d)], [np.sum(f * d), np.sum(d)]])
        ab = ab - np.linalg.solve(hessian, gradient)
    return ab[0] / scale, ab[1]


cases, expected, data = [], [], []
for i in range(60):
    scores, labels = random_calibration_data(i)
    if np.all(scores == scores[0]):
        continue  # only A s + B is identified: sklearn and we pick different (A, B), documented
    queries = np.linspace(scores.min() - 1, scores.max() + 1, 50)
    cases.append(calibration_case("platt", scores, labels, queries))
    a, b = _sigmoid_calibration(scores, labels)
    expected.append((a, b, 1.0 / (1.0 + np.exp(a * queries + b)), *polished(a, b, scores, labels)))
    data.append((scores, labels))


def relative(x, reference, a_ref, scores):
    # B relative to the linear term beside it, as it can be ~0 (symmetric data).
    return abs(x - reference) / max(abs(reference), abs(a_ref) * np.max(np.abs(scores)) * 1e-3, 1e-3)


worst = {"a": 0.0, "b": 0.0, "p": 0.0, "a_small": 0.0, "b_small": 0.0, "exact": 0.0, "grad": 0.0, "grad_sk": 0.0}
for case, answer, (a_sk, b_sk, p_sk, a_exact, b_exact), (scores, labels) in zip(cases, run(cases), expected, data):
    a, b = float(answer[1]), float(answer[2])
    probabilities = np.array(answer[4:], dtype=float)
    err_a, err_b = abs(a - a_sk) / abs(a_sk), relative(b, b_sk, a_sk, scores)
    err_p = np.max(np.abs(probabilities - p_sk))
    # sklearn stops L-BFGS at |gradient of the sum| <= 1e-6, which leaves A, B ~1e-6/(n·0.1) from the
    # optimum: within 1e-6 from n = 20 on, up to a few 1e-6 on the tiny sets.
    limit = 1e-6 if len(scores) >= 20 else 1e-5
    assert err_a <= limit and err_b <= limit, f"platt n = {case[1]}: A {a} vs sklearn {a_sk}, B {b} vs {b_sk}"
    assert err_p <= limit, f"platt n = {case[1]}: probabilities differ from sklearn's by {err_p}"
    # Against the polished optimum, and the optimality condition itself.
    err_exact = max(abs(a - a_exact) / abs(a_exact), relative(b, b_exact, a_exact, scores))
    assert err_exact <= 1e-9, f"platt n = {case[1]}: A {a} vs exact {a_exact}, B {b} vs {b_exact}"
    grad, grad_sk = (np.max(np.abs(platt_gradient(x, y, scores, labels))) for x, y in ((a, b), (a_sk, b_sk)))
    assert grad <= 1e-10, f"platt n = {case[1]}: not at the optimum, gradient per sample {grad}"
    key = "" if len(scores) >= 20 else "_small"
    worst["a" + key], worst["b" + key] = max(worst["a" + key], err_a), max(worst["b" + key], err_b)
    worst["p"], worst["exact"] = max(worst["p"], err_p), max(worst["exact"], err_exact)
    worst["grad"], worst["grad_sk"] = max(worst["grad"], grad), max(worst["grad_sk"], grad_sk)
print(f"platt: {len(cases)} cases; vs sklearn _sigmoid_calibration: relative A {worst['a']:.3g}, B {worst['b']:.3g} "
      f"(n >= 20), A {worst['a_small']:.3g}, B {worst['b_small']:.3g} (n < 20), |P| {worst['p']:.3g}; "
      f"vs sklearn's optimum polished by Newton: {worst['exact']:.3g}; gradient per sample: ours <= "
      f"{worst['grad']:.3g}, sklearn's <= {worst['grad_sk']:.3g}")


# ----- MH ----------------------------------------------------------------------------------------------------
def turner_mh_sample(d_score, u):
    """mhgan/mh.py mh_sample with its uniforms given: d_score[0] is the start, moves when OR[cur] <= OR[i]/u[i]."""
    odds = 1.0 / ((1.0 / d_score) - 1.0)
    with np.errstate(divide="ignore"):
        odds_u = odds / u
    picked = 0
    for i in range(1, len(d_score)):
        if odds[picked] <= odds_u[i]:
            picked = i
    return picked


def turner_chain(start, proposals, u, u_restart):
    """demo_mhgan.py enhance_samples: start at the real score; if it never moved, again from the first fake."""
    idx = turner_mh_sample(np.concatenate([[start], proposals]), np.concatenate([[np.nan], u]))
    if idx != 0:
        return idx - 1, 0
    return turner_mh_sample(proposals, np.concatenate([[np.nan], u_restart])), 1


cases, expected = [], []
for i in range(3000):
    k = int(rng.integers(1, 40))
    confidence = rng.uniform(0.5, 8.0)  # spread of the logits: large means frequent restarts
    start = 1.0 / (1.0 + np.exp(-(rng.normal() * confidence + confidence)))
    proposals = 1.0 / (1.0 + np.exp(-rng.normal(size=k) * confidence))
    # Away from the clamp [1e-6, 1 - 1e-6], where Turner's code (no clamp) and ours agree by construction.
    start, proposals = np.clip(start, 1e-5, 1 - 1e-5), np.clip(proposals, 1e-5, 1 - 1e-5)
    u = rng.random(k)
    fresh = i % 2 == 0
    u_restart = rng.random(k - 1) if fresh else u[1:]
    cases.append(["mh", float(start), k, *map(float, proposals), *map(float, u),
                  *([k - 1, *map(float, u_restart)] if fresh else [0])])
    expected.append(turner_chain(start, proposals, u, u_restart))
restarts = 0
for case, answer, (idx, restarted) in zip(cases, run(cases), expected):
    assert (int(answer[1]), int(answer[2])) == (idx, restarted), \
        f"mh {case[:3]}...: ours {answer}, Turner et al. {idx} {restarted}"
    restarts += restarted
print(f"mh: {len(cases)} chains agree with Turner et al.'s mh_sample + restart ({restarts} restarted)")


# ----- DRS ---------------------------------------------------------------------------------------------------
def azadi_drs(burn_in, logits, u, quantile, epsilon):
    """Turner et al.'s rejection_sample on raw logits, γ from the burn-in; log(1 - e^x) as log(-expm1(x)), the
    same number computed without cancellation (1 - e^-ε loses 10 digits at ε = 1e-6)."""
    m = np.max(burn_in)
    delta = burn_in - m
    gamma = np.percentile(delta - np.log(-np.expm1(delta - epsilon)), 100 * quantile)
    running = np.maximum(m, np.maximum.accumulate(logits))
    delta = logits - running
    f = delta - np.log(-np.expm1(delta - epsilon)) - gamma
    p = 1.0 / (1.0 + np.exp(-f))
    return running[-1], gamma, p, np.flatnonzero(u <= p)


cases, expected = [], []
for i in range(200):
    nb, n = int(rng.integers(1, 500)), int(rng.integers(1, 500))
    burn_in, logits = rng.normal(size=nb) * 3, rng.normal(size=n) * 3 + (i % 3)
    quantile, epsilon = float(rng.choice([0.95, 0.5, 0.0, 1.0, rng.random()])), float(rng.choice([1e-6, 1e-3, 0.1]))
    u = rng.random(n)
    cases.append(["drs", nb, *map(float, burn_in), n, *map(float, logits), *map(float, u), quantile, epsilon])
    expected.append((*azadi_drs(burn_in, logits, u, quantile, epsilon), u))
worst = 0.0
for case, answer, (m, gamma, p, accepted, u) in zip(cases, run(cases), expected):
    n = len(p)
    got_m, got_gamma = float(answer[1]), float(answer[2])
    got_p = np.array(answer[3:3 + n], dtype=float)
    got_accepted = np.array(answer[4 + n:], dtype=int)
    assert int(answer[3 + n]) == len(got_accepted)
    assert got_m == m, f"drs: max logit {got_m} vs {m}"
    assert abs(got_gamma - gamma) <= 1e-12 * max(1.0, abs(gamma)), f"drs: gamma {got_gamma} vs numpy {gamma}"
    err = np.max(np.abs(got_p - p))
    assert err <= 1e-12, f"drs: acceptance probabilities differ by {err}"
    # Decisions agree except where u is within rounding of p.
    differ = np.setxor1d(got_accepted, accepted)
    assert np.all(np.abs(u[differ] - p[differ]) <= 1e-12), f"drs: decisions differ at {differ}"
    worst = max(worst, err)
print(f"drs: {len(cases)} cases, max |P - numpy formula| = {worst:.3g}, gamma = numpy.percentile of F")

# ----- errors ------------------------------------------------------------------------------------------------
out = subprocess.run([tool], input="platt 2 0.5 1 0.7 1 0", capture_output=True, text=True)
assert out.returncode == 2 and "no negative (generated) example" in out.stderr, (out.returncode, out.stderr)
print("errors: refine_tool exits 2 with the library's message")
