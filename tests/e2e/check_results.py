"""Checks results.h5 against the results contract (SPEC §5) with h5py, as a user would read it, and
optionally that two runs (e.g. 1 and 2 ranks) produced bitwise-identical scores.

usage: check_results.py RESULTS_H5 [OTHER_RESULTS_H5 [--resumed]]
--resumed: OTHER was killed and resumed; at least one of its training runs must have resumed from a
checkpoint (attribute resumed_from > 0), or the kill came too late to test anything.
"""
import math
import sys

import h5py
import numpy as np
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
            for key in ("iterations", "train_size", "seed", "role", "dp_epsilon"):
                assert key in run.attrs, f"/runs/{name} lacks attribute {key}"
            assert run["loss_d"].shape == (run.attrs["iterations"],), f"/runs/{name}/loss_d length"
        attacks = f["attacks"]
        assert len(attacks) > 0, "no attacks"
        for name, group in attacks.items():
            for key in ATTACK_ATTRS:
                assert key in group.attrs, f"/attacks/{name} lacks attribute {key}"
            assert math.isnan(group.attrs["dp_epsilon"]), "dp_epsilon must be NaN without DP"
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
        with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
            for name in names:
                for key in ("score", "distance", "sample_index", "roc_tpr"):
                    x, y = a["attacks"][name][key][()], b["attacks"][name][key][()]
                    assert np.array_equal(x, y), f"{name}/{key} differs: max |diff| {np.abs(x - y).max()}"
                assert a["attacks"][name].attrs["auc"] == b["attacks"][name].attrs["auc"]
            for name in a["runs"]:
                assert np.array_equal(a["runs"][name]["loss_g"][()], b["runs"][name]["loss_g"][()]), name
        if "--resumed" in sys.argv[3:]:
            with h5py.File(sys.argv[2], "r") as b:
                resumed = {n: int(r.attrs["resumed_from"]) for n, r in b["runs"].items() if r.attrs["resumed_from"] > 0}
            assert resumed, "no training run resumed from a checkpoint"
            print(f"resumed from checkpoints: {resumed}")
        print("scores identical in both runs")


if __name__ == "__main__":
    main()
