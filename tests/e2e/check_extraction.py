"""Checks an extraction experiment's results.h5 (SPEC §5 /extraction) with h5py, as a user reads it, against
independent references: every stored FID recomputed by pytorch-fid's calculate_frechet_distance from the stored
statistics, every JS divergence by scipy; optionally that a second run (another number of ranks) has
bitwise-identical numbers and answers.

usage: check_extraction.py RESULTS_H5 [OTHER_RESULTS_H5]
"""
import math
import pathlib
import sys

import h5py
import numpy as np
from pytorch_fid.fid_score import calculate_frechet_distance
from scipy.spatial.distance import jensenshannon

EXTRACTION_ATTRS = ["queries", "defense", "fidelity_fid", "accuracy_fid", "js", "method", "model", "target_model",
                    "seed", "fid_extractor", "fid_label", "fid_samples", "fid_seed", "fid_input"]


def stats(group, prefix):
    return group[prefix + "_mean"][()], group[prefix + "_covariance"][()]


def close(a, b, rel=1e-6, abs_=1e-9):
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def check(path):
    with h5py.File(path, "r") as f:
        assert "config" in f.attrs and "provenance" in f.attrs, "root attributes missing"
        assert 0 <= f["classifier"].attrs["test_accuracy"] <= 1, "classifier accuracy missing"
        ex = f["extraction"]
        target_evals = {name: g for name, g in ex.items() if g.attrs["method"] == "target"}
        assert target_evals, "no evaluation of the target"
        methods = set()
        for name, g in ex.items():
            for key in EXTRACTION_ATTRS:
                assert key in g.attrs, f"/extraction/{name} lacks {key}"
            assert "Inception" not in g.attrs["fid_label"], f"{name}: classifier features called Inception"
            method = g.attrs["method"]
            methods.add(method)
            mu, sigma = stats(g, "samples")
            if method == "target" or method.startswith("transfer"):
                real = stats(g, "real")
            else:
                baseline = next(iter(target_evals.values()))
                real = stats(baseline, "real")
                reference = calculate_frechet_distance(mu, sigma, *stats(baseline, "samples"))
                assert close(reference, g.attrs["fidelity_fid"]), f"{name}: fidelity {g.attrs['fidelity_fid']} vs pytorch-fid {reference}"
                assert close(g.attrs["fidelity_fid"], g.attrs["fidelity_fid_eigenvalues"], 1e-5), f"{name}: eigenvalue cross-check"
                js = jensenshannon(g["samples_class_histogram"][()], baseline["samples_class_histogram"][()]) ** 2
                assert close(js, g.attrs["js_fidelity"], 1e-9, 1e-12), f"{name}: JS fidelity {g.attrs['js_fidelity']} vs scipy {js}"
                # What the thief paid: every answer a query; accuracy extraction within its budget.
                if method == "fidelity":
                    assert g.attrs["generator_calls"] == g.attrs["queries"] == g.attrs["training_records"], name
                else:
                    assert g.attrs["generator_calls"] <= g.attrs["queries"], name
            reference = calculate_frechet_distance(mu, sigma, *real)
            assert close(reference, g.attrs["accuracy_fid"]), f"{name}: accuracy {g.attrs['accuracy_fid']} vs pytorch-fid {reference}"
            assert g.attrs["fid_samples"] > len(mu), f"{name}: FID from N <= d samples"
            assert abs(g["samples_class_histogram"][()].sum() - 1) < 1e-12, f"{name}: histogram"
            if g.attrs["defense"] != "none":
                assert g.attrs["utility_fid"] > 0, f"{name}: a defense with no utility cost"
            else:
                assert math.isnan(g.attrs["defense_strength"])
        assert {"target", "fidelity", "accuracy-mh", "accuracy-drs", "transfer-finetune", "transfer-scratch"} <= methods, methods
        for name, q in f["queries"].items():
            assert q.attrs["generator_calls"] == q.attrs["queries"], name
        for name, r in f["refined"].items():
            assert r.attrs["generator_calls"] <= r.attrs["queries"], f"{name}: more generator calls than the budget"
            assert r.attrs["refined"] > 0, f"{name}: nothing refined"
        for name, run in f["runs"].items():
            if run.attrs["role"] == "attack":
                assert run.attrs["records"] > 0 and "input" in run.attrs, name
        split = f["splits/seed5"]
        assert not set(split["target"][()]) & set(split["transfer"][()]), "target and transfer records overlap"


def same(a_path, b_path):
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        for name, g in a["extraction"].items():
            h = b["extraction"][name]
            for key in ("fidelity_fid", "accuracy_fid", "js_fidelity", "js_accuracy", "utility_fid"):
                if key in g.attrs:
                    x, y = g.attrs[key], h.attrs[key]
                    assert (math.isnan(x) and math.isnan(y)) or x == y, f"{name}@{key}: {x} vs {y}"
            for key in ("samples_mean", "samples_covariance"):
                assert np.array_equal(g[key][()], h[key][()]), f"{name}/{key} differs"
    for kind in ("queries", "refined"):
        a_dir = pathlib.Path(a_path).parent / kind
        for file in sorted(a_dir.glob("*.h5")):
            with h5py.File(file, "r") as x, h5py.File(pathlib.Path(b_path).parent / kind / file.name, "r") as y:
                assert np.array_equal(x["images"][()], y["images"][()]), f"{kind}/{file.name}: answers differ"


check(sys.argv[1])
if len(sys.argv) > 2:
    check(sys.argv[2])
    same(sys.argv[1], sys.argv[2])
print("check_extraction: ok")
