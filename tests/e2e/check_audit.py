"""The audit task's results.h5 (issue #20) against an independent recomputation from its stored scores:
- every model trained on what the audit says: the runs with the canary hold its row, the runs without do not, the
  one-run model holds exactly the canaries whose coin came up heads (none in a null audit);
- multi-run: the threshold and its side chosen again from the threshold runs (numpy), the errors counted on the others, and the
  Clopper-Pearson, Gaussian-DP and ceiling bounds from scipy (tests/privacy/audit_reference.py), to 1e-6;
- one-run: the guesses again from the losses, the one-run bound and its ceiling from scipy, to 1e-6;
- DP levels: no epsilon_lb above the accountant's epsilon;
- --null: every epsilon_lb is 0 while some ceiling is above 0 (the audit could have shown a bound).
usage: check_audit.py RESULTS.h5 [--null]"""
import math
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "privacy"))
from audit_reference import multi_run, one_run  # noqa: E402

path, null = sys.argv[1], "--null" in sys.argv[2:]
f = h5py.File(path, "r")


def close(a, b, what):
    if math.isinf(b):
        assert a == b, f"{what}: ganleaks {a}, scipy {b}"
        return
    assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), f"{what}: ganleaks {a}, scipy {b}"


def multi_run_eps(fp, fn, t, delta, c):
    return multi_run(fp, fn, t, delta, c)[0]


canaries = {}
for seed in f["canaries"]:
    g = f["canaries"][seed]
    canaries[int(seed[4:])] = (set(g["train_rows"][:].tolist()), g["canary_rows"][:].tolist())

# What each model trained on.
for name, run in f["runs"].items():
    rows = set(run["train_index"][:].tolist())
    seed = int(run.attrs["seed"])
    train, canary_rows = canaries[seed]
    assert train <= rows, f"{name}: does not hold the training set"
    trained_canaries = rows - train
    if run.attrs["audit_mode"] == "multi-run":
        want = {canary_rows[0]} if run.attrs["with_canary"] and not null else set()
    else:
        want = set()
        if not null:
            included = next(a["included"][:] for a in f["audits"].values()
                            if a.attrs["mode"] == "one-run" and int(a.attrs["seed"]) == seed)
            want = {r for r, i in zip(canary_rows, included) if i}
    assert trained_canaries == want, f"{name}: trained on canaries {sorted(trained_canaries)}, expected {sorted(want)}"

checked, ceilings, bounds = 0, [], []
for name, a in f["audits"].items():
    delta, c = float(a.attrs["delta"]), float(a.attrs["confidence"])
    if a.attrs["mode"] == "multi-run":
        lin, lout = a["loss_with_canary"][:], a["loss_without_canary"][:]
        k = int(a.attrs["threshold_runs"])
        values = np.unique(np.concatenate([lin[:k], lout[:k]]))
        candidates = [-np.inf] + list((values[:-1] + values[1:]) / 2) + [np.inf]
        best = None
        for above in (False, True):  # "below" first, candidates ascending: a tie keeps the earlier
            for t in candidates:
                guess_out, guess_in = (lout[:k] > t, lin[:k] > t) if above else (lout[:k] < t, lin[:k] < t)
                fp, fn = int(np.sum(guess_out)), int(np.sum(~guess_in))
                key = (multi_run_eps(fp, fn, k, delta, c), -(fp + fn))
                if best is None or key > best[0]:
                    best = (key, t, above)
        _, t, above = best
        assert a.attrs["threshold"] == t, f"{name}: threshold {a.attrs['threshold']}, numpy {t}"
        assert a.attrs["guess_in_when"] == ("loss > threshold" if above else "loss < threshold"), name
        trials = len(lin) - k
        guess_out, guess_in = (lout[k:] > t, lin[k:] > t) if above else (lout[k:] < t, lin[k:] < t)
        fp, fn = int(np.sum(guess_out)), int(np.sum(~guess_in))
        assert (a.attrs["trials"], a.attrs["false_positives"], a.attrs["false_negatives"]) == (trials, fp, fn), name
        eps, _, _, mu, gdp = multi_run(fp, fn, trials, delta, c)
        close(a.attrs["epsilon_lb"], eps, f"{name}: epsilon_lb")
        close(a.attrs["gdp_mu_lb"], mu, f"{name}: gdp_mu_lb")
        close(a.attrs["gdp_epsilon_lb"], gdp, f"{name}: gdp_epsilon_lb")
        close(a.attrs["ceiling"], multi_run_eps(0, 0, trials, delta, c), f"{name}: ceiling")
    else:
        loss, included = a["loss"][:], a["included"][:]
        order = np.argsort(loss, kind="stable")
        guess = np.zeros(len(loss), dtype=np.int64)
        r = int(a.attrs["guesses"])
        k_in = int(np.sum(a["guess"][:] == 1))
        guess[order[:k_in]] = 1
        guess[order[len(loss) - (r - k_in):]] = -1
        assert (a["guess"][:] == guess).all(), f"{name}: guesses differ"
        correct = int(np.sum((guess == 1) & (included == 1)) + np.sum((guess == -1) & (included == 0)))
        assert a.attrs["correct"] == correct, name
        m = len(loss)
        close(a.attrs["epsilon_lb"], one_run(m, r, correct, delta, c), f"{name}: epsilon_lb")
        close(a.attrs["ceiling"], one_run(m, r, r, delta, c), f"{name}: ceiling")
    if math.isfinite(a.attrs["epsilon"]):
        assert a.attrs["epsilon_lb"] <= a.attrs["epsilon"], f"{name}: epsilon_lb above the accountant's epsilon"
    ceilings.append(float(a.attrs["ceiling"]))
    bounds.append(float(a.attrs["epsilon_lb"]))
    checked += 1

assert checked > 0, "no audits"
if null:
    assert max(ceilings) > 0, "a null check whose audits could not have shown any bound"
    assert max(bounds) == 0, f"null audit: epsilon_lb {bounds}"
print(f"{checked} audits agree with numpy/scipy from their stored scores" + (" (null: every bound 0)" if null else ""))
