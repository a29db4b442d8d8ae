"""LiRA's scores recomputed from a results.h5's stored shadow signals (attack groups with calibration = lira-online)
in ganleaks's way and in the ways of the authors' research/mi_lira_2021/plot.py (median centre, their fixed variance,
two-sided offline) and with a per-query spread: the departures of docs/attacks.md measured both ways. Prints a
Markdown table of AUC and TPR at 1 % FPR (unresolved below 100 non-members: read it with the query count).
usage: lira_variants.py RESULTS_H5"""
import pathlib
import sys

import h5py
import numpy as np
from scipy.special import log_ndtr
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "e2e"))
from check_results import lira_signal

def tpr_at(y, s, f):
    fpr, tpr, _ = roc_curve(y, s, drop_intermediate=False)
    return tpr[fpr <= f].max()

f = h5py.File(sys.argv[1], "r")
print("| signal | n | variant | LiRA online AUC | TPR@1% | LiRA offline AUC | TPR@1% |")
print("|---|---:|---|---:|---:|---:|---:|")
for name, g in sorted(f["attacks"].items()):
    if g.attrs.get("calibration") != "lira-online":
        continue
    setting, n, k = g.attrs["setting"], g.attrs["train_size"], g.attrs["fbb_samples"]
    y = g["is_member"][()]
    t = lira_signal(setting, g["distance"][()], k)
    S = lira_signal(setting, g["shadow_distance"][()], k)
    keep = g["shadow_in"][()].astype(bool)
    IN = np.array([S[q][keep[q]] for q in range(len(S))]); OUT = np.array([S[q][~keep[q]] for q in range(len(S))])
    def pooled(X, centre):
        return np.sqrt(np.mean((X - centre[:, None]) ** 2))
    variants = {}
    # ganleaks: mean, pooled residual spread (K = 16 < 64: global)
    mi, mo = IN.mean(1), OUT.mean(1)
    si, so = pooled(IN, mi) + 1e-30, pooled(OUT, mo) + 1e-30
    variants["ganleaks (mean, pooled spread, one-sided offline)"] = (norm.logpdf(t, mi, si) - norm.logpdf(t, mo, so), log_ndtr((t - mo) / so))
    # median centre, otherwise ganleaks
    mi2, mo2 = np.median(IN, 1), np.median(OUT, 1)
    si2, so2 = pooled(IN, mi2) + 1e-30, pooled(OUT, mo2) + 1e-30
    variants["median centre"] = (norm.logpdf(t, mi2, si2) - norm.logpdf(t, mo2, so2), log_ndtr((t - mo2) / so2))
    # the authors' plot.py with fix_variance=True: median, std over all IN values (used for OUT too online), std(all OUT) offline, two-sided offline
    sa_in = np.std(IN) + 1e-30
    variants["plot.py fixed variance (median; np.std(dat_in) for both; two-sided offline)"] = (
        norm.logpdf(t, mi2, sa_in) - norm.logpdf(t, mo2, sa_in), -norm.logpdf(t, mo2, np.std(OUT) + 1e-30))
    # per-query spread (as K >= 64 would choose)
    variants["per-query spread"] = (norm.logpdf(t, mi, IN.std(1) + 1e-30) - norm.logpdf(t, mo, OUT.std(1) + 1e-30),
                                    log_ndtr((t - mo) / (OUT.std(1) + 1e-30)))
    for label, (on, off) in variants.items():
        print(f"| `{setting}` | {n} | {label} | {roc_auc_score(y, on):.3f} | {tpr_at(y, on, 0.01):.3f} | {roc_auc_score(y, off):.3f} | {tpr_at(y, off, 0.01):.3f} |")
