"""FID of `ganleaks fid` against pytorch-fid's calculate_frechet_distance (PyPI pytorch-fid, the field's
reference implementation) on the same statistics: features written as float32 to HDF5, mean and covariance
(N - 1) computed by numpy in float64 from the very same values. Agreement to 1e-6 relative (SPEC §4), also
for the cross-check through the eigenvalues of Σ₁Σ₂; bad inputs exit 2 with the file named.

usage: check_fid_pytorch_fid.py GANLEAKS_BINARY WORK_DIR
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from pytorch_fid.fid_score import calculate_frechet_distance


def write(path, features):
    with h5py.File(path, "w") as f:
        f["features"] = features.astype(np.float32)


def ours(binary, a, b):
    out = subprocess.run([binary, "fid", a, b], capture_output=True, text=True, check=True).stdout
    values = dict(line.split(" = ", 1) for line in out.strip().splitlines())
    return float(values["fid"]), float(values["fid_eigenvalues_of_product"]), int(values["n_a"])


def main():
    binary, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(0)
    cases = [  # (n_a, n_b, d, mean shift, mixing scale)
        (600, 500, 20, 0.3, 0.5),
        (300, 400, 64, 0.0, 1.0),
        (2000, 2000, 8, 2.0, 0.1),
        (200, 150, 100, 0.1, 0.3),  # N close to d: ill-conditioned covariances
    ]
    for n_a, n_b, d, shift, scale in cases:
        x = rng.standard_normal((n_a, d))
        y = rng.standard_normal((n_b, d)) @ (np.eye(d) + scale * rng.standard_normal((d, d))) + shift
        a, b = os.path.join(work, "a.h5"), os.path.join(work, "b.h5")
        write(a, x)
        write(b, y)
        xs, ys = x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)
        reference = calculate_frechet_distance(xs.mean(0), np.cov(xs, rowvar=False), ys.mean(0), np.cov(ys, rowvar=False))
        fid, fid_product, n = ours(binary, a, b)
        assert n == n_a, (n, n_a)
        rel = abs(fid - reference) / abs(reference)
        rel_product = abs(fid_product - reference) / abs(reference)
        print(f"n = {n_a}/{n_b}, d = {d}: ganleaks {fid:.10g}, pytorch-fid {reference:.10g}, "
              f"relative difference {rel:.2e} (eigenvalues of the product: {rel_product:.2e})")
        assert rel <= 1e-6, f"FID differs from pytorch-fid by {rel:.2e} relative"
        assert rel_product <= 1e-6, f"the cross-check differs by {rel_product:.2e} relative"

    # Bad input: N <= d, a missing dataset, different dimensions: exit code 2, the file named.
    few = os.path.join(work, "few.h5")
    write(few, rng.standard_normal((5, 8)))
    other = os.path.join(work, "other.h5")
    write(other, rng.standard_normal((50, 3)))
    with h5py.File(os.path.join(work, "empty.h5"), "w") as f:
        f["x"] = np.zeros(3)
    for files, expected in [((few, a), "few.h5"), ((os.path.join(work, "empty.h5"), a), "no dataset 'features'"),
                            ((other, a), "features")]:
        result = subprocess.run([binary, "fid", *files], capture_output=True, text=True)
        assert result.returncode == 2, (files, result.returncode, result.stderr)
        assert expected in result.stderr, (expected, result.stderr)
    print("FID agrees with pytorch-fid; bad inputs refused")


if __name__ == "__main__":
    main()
