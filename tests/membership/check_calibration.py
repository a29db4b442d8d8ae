"""Recomputes every calibrated fbb, pbb and wb score in a results.h5 from the per-query values it stores, with
the arithmetic of the GAN-Leaks reference code's tools/eval_roc.py (DingfanChen/GAN-Leaks), transcribed:

    pos_calibrate = pos_loss - pos_ref          (members)
    neg_calibrate = neg_loss - neg_ref          (non-members)
    auc = roc_auc_score(labels, -calibrate)     (labels: 0 for negatives first, then 1 for positives)

where *_loss are the victim's per-query values (`distance`) and *_ref the reference model's
(`distance_reference`): fbb's Euclidean distances to the nearest generated sample (sklearn's
NearestNeighbors, fbb.py), pbb's and wb's reconstruction loss MSE + lambda * LPIPS (pbb_*.py, wb_*.py).
Scores and AUC must agree to 1e-12. Also checks the uncalibrated groups (score = -loss) and fbb's second
calibrated group `fbb-squared` (score = -(d_v^2 - d_r^2)).

usage: check_calibration.py RESULTS_H5
"""
import sys

import h5py
import numpy as np
from sklearn import metrics

TOLERANCE = 1e-12


def eval_roc_calibrated_auc(pos_loss, neg_loss, pos_ref, neg_ref):
    """eval_roc.py's calibration branch, on 1-D arrays."""
    num_pos = min(len(pos_loss), len(pos_ref))
    num_neg = min(len(neg_loss), len(neg_ref))
    pos_calibrate = pos_loss[:num_pos] - pos_ref[:num_pos]
    neg_calibrate = neg_loss[:num_neg] - neg_ref[:num_neg]
    labels = np.concatenate((np.zeros((len(neg_calibrate),)), np.ones((len(pos_calibrate),))))
    results = np.concatenate((-neg_calibrate, -pos_calibrate))
    return pos_calibrate, neg_calibrate, metrics.roc_auc_score(labels, results)


def close(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b)), initial=0.0) <= TOLERANCE


def main(path):
    checked = {"fbb": 0, "pbb": 0, "wb": 0, "fbb-squared": 0}
    with h5py.File(path, "r") as f:
        for name, group in f["attacks"].items():
            setting = group.attrs["setting"]
            if setting not in checked:
                continue
            member = group["is_member"][()] == 1
            score, loss = group["score"][()], group["distance"][()]
            if not group.attrs["calibrated"]:
                assert close(score, -loss), f"{name}: uncalibrated score is not -distance"
                continue
            ref = group["distance_reference"][()]
            if setting == "fbb-squared":
                assert close(score, -(loss * loss - ref * ref)), f"{name}: score is not -(d_v^2 - d_r^2)"
                checked[setting] += 1
                continue
            pos_cal, neg_cal, auc = eval_roc_calibrated_auc(loss[member], loss[~member], ref[member], ref[~member])
            assert close(score[member], -pos_cal) and close(score[~member], -neg_cal), \
                f"{name}: stored scores differ from eval_roc.py's -(loss - ref)"
            assert abs(auc - group.attrs["auc"]) <= TOLERANCE, f"{name}: AUC {group.attrs['auc']} vs eval_roc.py {auc}"
            if setting == "fbb":  # the stored values are distances (fbb.py's kneighbors), not squared ones
                assert np.all(loss >= 0) and np.all(ref >= 0), f"{name}: negative distance"
            checked[setting] += 1
    missing = [s for s, n in checked.items() if n == 0]
    assert not missing, f"{path}: no calibrated group for {missing}"
    print(f"{path}: calibrated scores recomputed as eval_roc.py does: {checked}")


if __name__ == "__main__":
    main(sys.argv[1])
