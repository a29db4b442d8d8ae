"""Two HDF5 files (results.h5, a job's record) compared: every dataset bit for bit and every attribute, except
where and how long a job ran (wall_seconds, host, rank, ...), the provenance, and the seals of records
(content_digest, file_digests: digests over all of the above, so they differ wherever a volatile attribute does).
usage: compare_h5.py A.h5 B.h5 [--ignore attr,attr,...]   exit 1 and the differences when they differ"""
import sys

import h5py
import numpy as np

VOLATILE = {"wall_seconds", "host", "provenance", "slurm_job", "gpus", "rank", "ranks", "device",
            "content_digest", "file_digests"}
def walk(f):
    out = {}
    def visit(name, obj):
        out[name] = obj
    f.visititems(visit)
    out["/"] = f
    return out
def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and (a.tobytes() == b.tobytes())
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b): return True
    return a == b
def compare(pa, pb, skip=VOLATILE):
    fa, fb = h5py.File(pa, "r"), h5py.File(pb, "r")
    wa, wb = walk(fa), walk(fb)
    problems = []
    if set(wa) != set(wb):
        problems.append(f"objects differ: only in A {sorted(set(wa)-set(wb))[:5]}, only in B {sorted(set(wb)-set(wa))[:5]}")
    n_data = n_attr = 0
    for name in sorted(set(wa) & set(wb)):
        a, b = wa[name], wb[name]
        if isinstance(a, h5py.Dataset):
            n_data += 1
            if not same(a[()], b[()]): problems.append(f"dataset {name} differs")
        ka, kb = set(a.attrs) - skip, set(b.attrs) - skip
        if ka != kb: problems.append(f"attrs of {name} differ: {sorted(ka ^ kb)}")
        for k in ka & kb:
            n_attr += 1
            va, vb = a.attrs[k], b.attrs[k]
            if isinstance(va, np.generic): va = va.item()
            if isinstance(vb, np.generic): vb = vb.item()
            if not same(va, vb): problems.append(f"attr {name}@{k}: {str(va)[:80]!r} vs {str(vb)[:80]!r}")
    return problems, n_data, n_attr
if __name__ == "__main__":
    skip = set(VOLATILE)
    if "--ignore" in sys.argv:
        skip |= set(sys.argv[sys.argv.index("--ignore") + 1].split(","))
    problems, nd, na = compare(sys.argv[1], sys.argv[2], skip)
    print(f"{sys.argv[1]} vs {sys.argv[2]}: {nd} datasets, {na} attributes compared; {len(problems)} differences")
    for p in problems[:20]: print("  ", p)
    sys.exit(1 if problems else 0)
