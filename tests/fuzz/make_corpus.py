"""Writes the binary seed inputs of the fuzz targets (tests/fuzz/corpus/*): small valid files of each format, for
libFuzzer to mutate. The text seeds (configs, CSV) are committed as they are. Run from this folder with the
project's Python: ../../.venv/bin/python make_corpus.py"""
import gzip
import struct

import h5py
import numpy as np

rng = np.random.default_rng(0)


def idx(path, array, code):
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:  # reproducible bytes
        f.write(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


idx("corpus/idx/images.idx.gz", rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), 0x08)
idx("corpus/idx/labels.idx.gz", rng.integers(0, 10, (5,), dtype=np.uint8), 0x08)

with h5py.File("corpus/tabular_h5/records.h5", "w") as f:
    f["features"] = rng.random((6, 3))
    f["labels"] = rng.integers(0, 2, 6)
with h5py.File("corpus/tabular_h5/binary.h5", "w") as f:
    f["features"] = (rng.random((4, 5)) < 0.5).astype(np.uint8)

with h5py.File("corpus/results/membership.h5", "w") as f:
    f.attrs["experiment"] = "fuzz"
    g = f.create_group("attacks/fbb-n4-s0-cal")
    for key, value in {"model": "dcgan", "setting": "fbb", "privacy": "non-private"}.items():
        g.attrs[key] = value
    for key in ("train_size", "calibrated", "seed"):
        g.attrs[key] = np.int64(4 if key == "train_size" else 1 if key == "calibrated" else 0)
    for key in ("auc", "auc_ci_low", "auc_ci_high", "dp_epsilon", "dp_target_epsilon", "dp_noise_multiplier",
                "tpr_at_fpr_0.001", "tpr_at_fpr_0.01", "tpr_at_fpr_0.1"):
        g.attrs[key] = 0.5
    g["roc_fpr"] = np.array([0.0, 0.5, 1.0])
    g["roc_tpr"] = np.array([0.0, 0.5, 1.0])
    g["score"] = rng.random(8)
    r = f.create_group("runs/victim-n4-s0")
    r.attrs["model"] = "dcgan"
    r.attrs["train_size"] = np.int64(4)
    r.attrs["sample_quality"] = 1.0
with h5py.File("corpus/results/extraction.h5", "w") as f:
    g = f.create_group("extraction/eval-target-s0")
    for key, value in {"run": "target-s0", "method": "target", "model": "dcgan", "target_model": "dcgan",
                       "prior": "normal", "defense": "none", "fid_label": "FID"}.items():
        g.attrs[key] = value
    for key in ("queries", "seed", "generator_calls", "training_records", "refined", "fid_samples"):
        g.attrs[key] = np.int64(1)
    for key in ("fidelity_fid", "accuracy_fid", "js_fidelity", "js_accuracy", "utility_fid", "defense_strength"):
        g.attrs[key] = 1.5
