"""The extraction defenses (src/attacks/defenses.cpp) against the field's Python libraries, on the very same data:

- semantic_direction (LIBLINEAR, L2R_L2LOSS_SVC_DUAL) against scikit-learn's LinearSVC, which wraps its own
  copy of the same LIBLINEAR solver (loss='squared_hinge', dual=True, tol=1e-4, fit_intercept with
  intercept_scaling=1): the k highest / lowest scored latents are picked here again, independently, and the
  cosine between the two unit normals must exceed 0.999 (the two libraries shuffle differently, so they stop
  at slightly different points of the same strictly convex problem); the offsets b/|w| must agree to 1e-2;
- gaussian_filter against scipy.ndimage.gaussian_filter(mode='reflect', radius=ceil(3 sigma)) to 1e-5;
- jpeg_compression against Pillow (its own libjpeg-turbo build; baseline JPEG, islow DCT, 4:4:4 for RGB): the
  decoded uint8 pixels must agree to at most one level, and the report says how many differ.

The C++ side is the gtest case DefensesExport.* of the test binary: with GANLEAKS_DEFENSES_EXPORT naming a folder
it writes the cases, its answers and manifest.json there. This script runs it, then checks.

usage: check_semantic_svm.py TEST_BINARY WORK_DIR
"""
import io
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import scipy.ndimage
from PIL import Image
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC


def load(folder, name, shape=None):
    # Every exported tensor is float32 or uint8, written with 9 significant digits: the float32 round trip
    # restores the C++ values exactly.
    values = np.loadtxt(os.path.join(folder, name), delimiter=",", ndmin=2).astype(np.float32).astype(np.float64)
    return values.reshape(shape) if shape is not None else values


def check_svm(folder, case):
    base = "svm_" + case["name"]
    latents = load(folder, base + "_latents.csv")
    scores = load(folder, base + "_scores.csv").ravel()
    normal = load(folder, base + "_normal.csv").ravel()
    k = case["k"]
    order = np.argsort(-scores, kind="stable")
    rows = np.concatenate([order[:k], order[-k:]])
    x, y = latents[rows], np.concatenate([np.ones(k), -np.ones(k)])
    svm = LinearSVC(C=case["svm_c"], loss="squared_hinge", dual=True, tol=1e-4, max_iter=1000, fit_intercept=True,
                    intercept_scaling=1, random_state=0)
    with warnings.catch_warnings():  # hitting the iteration limit is reported below, for both libraries
        warnings.simplefilter("ignore", ConvergenceWarning)
        svm.fit(x, y)
    assert list(svm.classes_) == [-1, 1], svm.classes_
    w = svm.coef_.ravel()  # towards classes_[1] = +1, the high scores
    reference, offset = w / np.linalg.norm(w), svm.intercept_[0] / np.linalg.norm(w)
    cosine = float(normal @ reference / np.linalg.norm(normal))
    raises = float(normal @ (x[:k].mean(0) - x[k:].mean(0)))
    print(f"svm {case['name']}: N = {len(scores)}, z_dim = {latents.shape[1]}, k = {k}, C = {case['svm_c']}: "
          f"cosine to sklearn {cosine:.7f}, offset {case['offset']:.5f} vs {offset:.5f}, LIBLINEAR passes "
          f"{case['iterations']} (converged {case['converged']}) vs sklearn {svm.n_iter_}, "
          f"train accuracy {case['train_accuracy']:.4f} vs {svm.score(x, y):.4f}")
    assert abs(np.linalg.norm(normal) - 1) < 1e-6, "the direction is not a unit vector"
    assert raises > 0, "moving along the direction does not lead from the low-score to the high-score latents"
    assert cosine > 0.999, f"cosine {cosine} to sklearn's LinearSVC normal"
    assert abs(case["offset"] - offset) < 1e-2, f"offset {case['offset']} vs sklearn's {offset}"
    return cosine


def check_filter(folder, case):
    shape = case["shape"]
    x = load(folder, case["input"], shape)
    ours = load(folder, case["output"], shape)
    sigma = case["sigma"]
    radius = math.ceil(3 * sigma)
    reference = scipy.ndimage.gaussian_filter(x, sigma, mode="reflect", radius=radius, axes=(2, 3))
    error = float(np.abs(ours - reference).max())
    print(f"gaussian_filter sigma = {sigma} (radius {radius}) on {shape}: max |ours - scipy| = {error:.2e}")
    assert error < 1e-5, f"gaussian_filter differs from scipy.ndimage by {error}"


def check_jpeg(folder, case):
    shape = case["shape"]
    x = load(folder, case["input"], shape).astype(np.uint8)
    ours = load(folder, case["output"], shape).astype(np.int64)
    reference = np.empty_like(ours)
    for i, image in enumerate(x):
        buffer = io.BytesIO()
        if shape[1] == 1:
            Image.fromarray(image[0], mode="L").save(buffer, "JPEG", quality=case["quality"])
        else:
            Image.fromarray(image.transpose(1, 2, 0), mode="RGB").save(buffer, "JPEG", quality=case["quality"],
                                                                      subsampling=0)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
        reference[i] = decoded[None] if shape[1] == 1 else decoded.transpose(2, 0, 1)
    diff = np.abs(ours - reference)
    loss = float(np.abs(ours - x.astype(np.int64)).mean())
    print(f"jpeg_compression quality {case['quality']} on {shape}: mean |decoded - input| = {loss:.2f} levels; "
          f"vs Pillow: max {int(diff.max())} level(s), {int((diff > 0).sum())} of {diff.size} pixels differ")
    assert diff.max() <= 1, f"jpeg_compression differs from Pillow by {diff.max()} levels"


def main():
    binary, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, GANLEAKS_DEFENSES_EXPORT=work)
    run = subprocess.run([binary, "--gtest_filter=DefensesExport.*"], env=env, capture_output=True, text=True)
    if run.returncode != 0 or "[  PASSED  ] 1 test" not in run.stdout:
        sys.exit(f"{binary} --gtest_filter=DefensesExport.* failed:\n{run.stdout}\n{run.stderr}")
    with open(os.path.join(work, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["svm"] and manifest["filter"] and manifest["jpeg"], "empty manifest"
    cosines = [check_svm(work, case) for case in manifest["svm"]]
    for case in manifest["filter"]:
        check_filter(work, case)
    for case in manifest["jpeg"]:
        check_jpeg(work, case)
    print(f"all agree; smallest cosine to sklearn {min(cosines):.7f}")


if __name__ == "__main__":
    main()
