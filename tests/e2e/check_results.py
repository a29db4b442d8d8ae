"""Checks results.h5 against the results contract (SPEC §5) with h5py, as a user would read it, and
optionally that two runs (e.g. 1 and 2 ranks) produced bitwise-identical scores.

usage: check_results.py RESULTS_H5 [OTHER_RESULTS_H5 [--resumed | --close]]
--resumed: OTHER was killed and resumed; at least one of its training runs must have resumed from a
checkpoint (attribute resumed_from > 0), or the kill came too late to test anything.
--close: OTHER trained data parallel (float sums in another order, which 40 GAN steps amplify to ~1e-4):
scores correlate >= 0.9999 and AUCs agree within 0.01, instead of bitwise. (The weights themselves are
compared within 2e-5 after 6 steps in test_data_parallel.cpp.)
"""
import math
import sys

import h5py
import numpy as np
from scipy.special import log_ndtr
from scipy.stats import norm
from sklearn.metrics import roc_auc_score, roc_curve

ATTACK_ATTRS = ["model", "train_size", "setting", "calibrated", "seed", "dp_epsilon", "auc",
                "tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0.1"]
ATTACK_DATA = {"score": np.float64, "distance": np.float64, "is_member": np.uint8, "sample_index": np.int64}


def auc_mann_whitney(scores, members):
    """Independent AUC: pairwise comparisons, ties count half."""
    pos, neg = scores[members == 1], scores[members == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


def lira_signal(setting, loss, k):
    """A setting's loss as LiRA's signal (larger for members), as docs/attacks.md defines it."""
    if setting in ("dis", "domias"):
        return -loss
    if setting == "mc":
        return np.log(-loss + 1.0 / k)
    return -np.log(np.maximum(loss, np.finfo(float).tiny))


def rmia_likelihood(setting, loss, k):
    if setting == "dis":
        return 1 / (1 + np.exp(loss))
    if setting == "mc":
        return -loss + 1.0 / k
    return np.exp(-loss)


def shadow_scores(group):
    """LiRA or RMIA recomputed from the signals a shadow-model group stores, with numpy and scipy (issue #19)."""
    a = group.attrs
    setting, k, calibration = a["setting"], a["fbb_samples"], a["calibration"]
    keep = group["shadow_in"][()].astype(bool)
    if calibration.startswith("lira"):
        target, shadows = lira_signal(setting, group["distance"][()], k), lira_signal(setting, group["shadow_distance"][()], k)
        def fit(side):
            values = [shadows[q][keep[q] == side] for q in range(len(shadows))]
            mean, std = np.array([v.mean() for v in values]), np.array([v.std() for v in values])
            if a["shadow_spread"] == "global":
                std = np.full(len(values), np.sqrt(np.mean(np.concatenate([v - v.mean() for v in values]) ** 2)))
            return mean, std + 1e-30
        mean_out, std_out = fit(False)
        if calibration == "lira-offline":
            return log_ndtr((target - mean_out) / std_out)
        mean_in, std_in = fit(True)
        return norm.logpdf(target, mean_in, std_in) - norm.logpdf(target, mean_out, std_out)
    px, pz = rmia_likelihood(setting, group["shadow_distance"][()], k), rmia_likelihood(setting, group["population_shadow_distance"][()], k)
    tx, tz = rmia_likelihood(setting, group["distance"][()], k), rmia_likelihood(setting, group["population_distance"][()], k)
    if calibration == "rmia-online":
        marginal_x, marginal_z = px.mean(1), pz.mean(1)
    else:
        out_mean = np.array([px[q][~keep[q]].mean() for q in range(len(px))])
        marginal_x = (1 + a["rmia_a"]) / 2 * out_mean + (1 - a["rmia_a"]) / 2
        marginal_z = (1 + a["rmia_a"]) / 2 * pz.mean(1) + (1 - a["rmia_a"]) / 2
    ratio_x, ratio_z = tx / marginal_x, tz / marginal_z
    return np.mean(ratio_x[:, None] / ratio_z[None, :] > a["rmia_gamma"], axis=1)


def check_contract(path):
    with h5py.File(path, "r") as f:
        assert "config" in f.attrs and "provenance" in f.attrs, "root attributes config/provenance missing"
        splits = f["splits"]
        for seed in splits:
            sets = [set(splits[seed][k][()].tolist()) for k in ("reference", "holdout", "train_pool")]
            assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2]), f"{seed}: splits overlap"
        runs = f["runs"]
        assert len(runs) > 0, "no runs"
        for name, run in runs.items():
            for key in ("iterations", "train_size", "seed", "role", "model", "dp_epsilon", "privacy"):
                assert key in run.attrs, f"/runs/{name} lacks attribute {key}"
            if run.attrs["role"] == "victim":  # issue #5: every victim records its sample quality
                assert "sample_quality" in run.attrs and "sample_quality_measure" in run.attrs, f"/runs/{name}: no sample quality"
            if run.attrs["privacy"] == "non-private":
                assert math.isnan(run.attrs["dp_epsilon"]), f"/runs/{name}: dp_epsilon must be NaN without DP"
            else:
                for key in ("dp_delta", "dp_noise_multiplier", "dp_sample_rate", "dp_steps", "dp_max_grad_norm"):
                    assert key in run.attrs, f"/runs/{name} (DP) lacks attribute {key}"
                assert 0 < run.attrs["dp_epsilon"] < math.inf, f"/runs/{name}: dp_epsilon {run.attrs['dp_epsilon']}"
                assert run["dp_batch_size"].shape == (run.attrs["dp_steps"],), f"/runs/{name}: one batch size per DP step"
            assert run["loss_d"].shape == (run.attrs["iterations"],), f"/runs/{name}/loss_d length"
        attacks = f["attacks"]
        assert len(attacks) > 0, "no attacks"
        for name, group in attacks.items():
            for key in ATTACK_ATTRS:
                assert key in group.attrs, f"/attacks/{name} lacks attribute {key}"
            if group.attrs["privacy"] == "non-private":
                assert math.isnan(group.attrs["dp_epsilon"]), f"/attacks/{name}: dp_epsilon must be NaN without DP"
            else:
                assert 0 < group.attrs["dp_epsilon"] < math.inf, f"/attacks/{name}: dp_epsilon missing"
            for key, dtype in ATTACK_DATA.items():
                assert group[key].dtype == dtype, f"/attacks/{name}/{key} has dtype {group[key].dtype}"
            members = group["is_member"][()]
            scores = group["score"][()]
            assert members.sum() * 2 == len(members), f"{name}: query set is not half members"
            auc = auc_mann_whitney(scores, members)
            assert abs(auc - group.attrs["auc"]) < 1e-12, f"{name}: auc {group.attrs['auc']} != {auc}"
            # The field's own implementation (scikit-learn) agrees on AUC and on TPR at the reported FPRs.
            assert abs(roc_auc_score(members, scores) - group.attrs["auc"]) < 1e-12, f"{name}: sklearn AUC differs"
            fpr, tpr, _ = roc_curve(members, scores, drop_intermediate=False)
            for target in (0.001, 0.01, 0.1):
                expected = tpr[fpr <= target].max()
                got = group.attrs[f"tpr_at_fpr_{target}"]
                assert abs(expected - got) < 1e-12, f"{name}: TPR at FPR {target}: {got}, sklearn {expected}"
            if group.attrs.get("calibration", "none") not in ("none", "reference"):
                expected = shadow_scores(group)
                error = np.max(np.abs(scores - expected) / np.maximum(1.0, np.abs(expected)))
                assert error <= 1e-10, f"{name}: scores differ from numpy's {group.attrs['calibration']} by {error:.3g}"
                # Online, every query trains exactly half of the shadows (pairs); offline, none.
                in_count = group.attrs["shadow_models"] // 2 if group.attrs["shadow_mode"] == "online" else 0
                assert (group["shadow_in"][()].sum(1) == in_count).all(), f"{name}: a query is IN for other than {in_count} shadows"
            low, high = group.attrs["auc_ci_low"], group.attrs["auc_ci_high"]
            assert low <= auc <= high, f"{name}: AUC {auc} outside its bootstrap interval [{low}, {high}]"
            if group.attrs["setting"] in ("pbb", "wb"):
                assert group.attrs["generator_evaluations_per_query"] > 1, f"{name}: no generator evaluations"
            seed = f"seed{group.attrs['seed']}"
            train = set(splits[seed]["train_pool"][: group.attrs["train_size"]].tolist())
            holdout = set(splits[seed]["holdout"][()].tolist())
            for index, member in zip(group["sample_index"][()], members):
                assert (index in train) if member else (index in holdout), f"{name}: sample {index} mislabelled"
        return sorted(attacks)


def main():
    names = check_contract(sys.argv[1])
    print(f"{sys.argv[1]}: contract ok ({len(names)} attack groups)")
    if len(sys.argv) > 2:
        other = check_contract(sys.argv[2])
        assert names == other, f"different attack groups: {names} vs {other}"
        close = "--close" in sys.argv[3:]
        with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
            worst = 0.0
            for name in names:
                x, y = a["attacks"][name]["sample_index"][()], b["attacks"][name]["sample_index"][()]
                assert np.array_equal(x, y), f"{name}: different queries"
                for key in ("score", "distance") if close else ("score", "distance", "roc_tpr"):
                    x, y = a["attacks"][name][key][()], b["attacks"][name][key][()]
                    if close:
                        r = np.corrcoef(x, y)[0, 1]
                        worst = max(worst, 1 - r)
                        assert r >= 0.9999, f"{name}/{key}: correlation {r} between the runs"
                    else:
                        assert np.array_equal(x, y), f"{name}/{key} differs: max |diff| {np.abs(x - y).max()}"
                auc_a, auc_b = a["attacks"][name].attrs["auc"], b["attacks"][name].attrs["auc"]
                assert abs(auc_a - auc_b) <= 0.01 if close else auc_a == auc_b, f"{name}: AUC {auc_a} vs {auc_b}"
            for name in a["runs"]:
                x, y = a["runs"][name]["loss_g"][()], b["runs"][name]["loss_g"][()]
                assert np.allclose(x, y, rtol=1e-3) if close else np.array_equal(x, y), name
            if close:
                print(f"smallest score correlation between the runs: 1 - {worst:.2g}")
        if "--resumed" in sys.argv[3:]:
            with h5py.File(sys.argv[2], "r") as b:
                resumed = {n: int(r.attrs["resumed_from"]) for n, r in b["runs"].items() if r.attrs["resumed_from"] > 0}
            assert resumed, "no training run resumed from a checkpoint"
            print(f"resumed from checkpoints: {resumed}")
        print("scores agree within tolerance in both runs" if close else "scores identical in both runs")


if __name__ == "__main__":
    main()
