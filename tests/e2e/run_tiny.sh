#!/usr/bin/env bash
# End to end through the real executable and real Open MPI ranks:
#  1. tiny sweep (every attack setting) on 1, 2 and 4 ranks: each results.h5 follows the contract, scores
#     bitwise identical; calibrated fbb/pbb/wb scores recomputed as the GAN-Leaks reference code does;
#  2. a second `run` resumes (nothing recomputed), `plan` and `report` work on the finished experiment; two
#     [[variant]] arms, wb with and without the perceptual term on the offline classifier (trained once, on the
#     file outside the pool, then cached), sharing their victims, the plain arm scoring as the plain config;
#  3. a run killed (SIGKILL, all ranks) in the middle of training resumes from its checkpoint and ends with
#     the same scores as an uninterrupted run;
#  4. DP-SGD victims trained data parallel (ranks_per_run = 2) score as on one rank, within float tolerance;
#  5. a sweep over several models of the zoo (fbb, dis, wb) scores identically on 1 and 2 ranks; MEDGAN on a
#     user's CSV of binary records with class-based member selection;
#  6. shadow models (LiRA, RMIA) score identically on 1 and 2 ranks, as numpy recomputes them from the stored
#     signals, and raising attack.shadow_models keeps the shadows and signals already computed;
#  7. bad input ends with one line naming the cause and exit code 2, and never touches earlier results.
# usage: run_tiny.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e"
source "$(dirname "$0")/common.sh"
rm -rf "$work"; mkdir -p "$work"

config_for() {  # config_for NAME RESULTS_DIR [extra sed expression]
  sed -e "s#RESULTS_DIR#$2#" -e "${3:-s/^//}" "$here/tiny.toml" > "$work/$1.toml"
  echo "$work/$1.toml"
}

echo "== 1, 2 and 4 ranks"
c1=$(config_for one "$work/one")
c2=$(config_for two "$work/two")
c4=$(config_for four "$work/four")
"$root/launch/mpi" -n 1 "$bin" run "$c1" > "$work/one.log" 2>&1 || { cat "$work/one.log"; fail "1-rank run"; }
"$root/launch/mpi" -n 2 "$bin" run "$c2" > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "2-rank run"; }
"$root/launch/mpi" -n 4 "$bin" run "$c4" > "$work/four.log" 2>&1 || { cat "$work/four.log"; fail "4-rank run"; }
grep -q "| dcgan | fbb | yes |" "$work/two.log" || fail "run did not print the leak table"
"$python" "$here/check_results.py" "$work/one/tiny/results.h5" "$work/two/tiny/results.h5"
"$python" "$here/check_results.py" "$work/one/tiny/results.h5" "$work/four/tiny/results.h5"
"$python" "$root/tests/membership/check_calibration.py" "$work/one/tiny/results.h5"
for f in config.toml provenance.toml report.md report.csv logs/rank-0.log logs/rank-1.log; do
  [ -s "$work/two/tiny/$f" ] || fail "missing $f"
done

echo "== resume, plan, report"
before=$(sha256sum "$work/two/tiny/attacks/"*.h5)
"$root/launch/mpi" -n 2 "$bin" run "$c2" > "$work/rerun.log" 2>&1 || { cat "$work/rerun.log"; fail "rerun"; }
grep -q "15 already done" "$work/rerun.log" || { cat "$work/rerun.log"; fail "rerun did not skip finished jobs"; }
[ "$before" = "$(sha256sum "$work/two/tiny/attacks/"*.h5)" ] || fail "rerun rewrote finished attacks"
"$bin" plan "$c2" | grep -q "15 of 15 already done" || fail "plan"
"$bin" report "$c2" | grep -q "| dcgan | dis | no |" || fail "report"

echo "== [[variant]] arms: wb with and without the perceptual term on the offline classifier"
perceptual_edit='s/^name = "tiny"/name = "tiny-perceptual"/; s/^settings = .*/settings = ["wb"]/'
perceptual=$(config_for perceptual "$work/perceptual" "$perceptual_edit")
printf '\n[[variant]]\nlabel = "plain"\n\n[[variant]]\nlabel = "classifier"\nattack.lambda_lpips = 0.2\nattack.perceptual = "classifier"\n' >> "$perceptual"
"$root/launch/mpi" -n 2 "$bin" run "$perceptual" > "$work/perceptual.log" 2>&1 || { cat "$work/perceptual.log"; fail "perceptual run"; }
grep -q "| dcgan (classifier) | wb | yes |" "$work/perceptual.log" || { cat "$work/perceptual.log"; fail "no row of the classifier arm"; }
"$python" - "$work/perceptual/tiny-perceptual/results.h5" "$work/two/tiny/results.h5" <<'PY' || fail "the perceptual classifier's record and the arms' wb groups"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as plain_run:
    c = f["perceptual_classifier"].attrs
    assert c["trained_on"] == "Fashion-MNIST test file", c["trained_on"]  # the file outside data.pool = "train"
    assert (c["train_records"], c["test_records"]) == (10000, 60000)
    assert c["test_accuracy"] > 0.8, c["test_accuracy"]
    # The arms share their victims and reference: trained once, under the first arm's label.
    assert sorted(f["runs"]) == ["plain-reference-s3", "plain-victim-n16-s3", "plain-victim-n48-s3"], list(f["runs"])
    for arm, perceptual in (("plain", 0.0), ("classifier", 0.2)):
        groups = {name: g for name, g in f["attacks"].items() if name.startswith(arm + "-wb-")}
        assert len(groups) == 4, list(f["attacks"])
        for name, g in groups.items():
            assert g.attrs["variant"] == arm and g.attrs["lambda_lpips"] == perceptual, (name, dict(g.attrs))
            if arm == "plain":  # the arm without overrides is the plain config's attack, bit for bit
                same = plain_run["attacks"][name[len("plain-"):]]
                assert np.array_equal(g["score"][()], same["score"][()]), name
        if arm == "classifier":
            assert all(g.attrs["perceptual"] == "classifier" for g in groups.values())
PY
"$root/launch/mpi" -n 2 "$bin" run "$perceptual" > "$work/perceptual-rerun.log" 2>&1 || fail "perceptual rerun"
grep -q "8 already done" "$work/perceptual-rerun.log" || { cat "$work/perceptual-rerun.log"; fail "the cached classifier was not reused"; }

echo "== killed mid-training, then resumed"
longer='s/^iterations = 40/iterations = 200/; s/^checkpoint_every = 20/checkpoint_every = 25/'
whole=$(config_for whole "$work/whole" "$longer")
killed=$(config_for killed "$work/killed" "$longer")
"$root/launch/mpi" -n 1 "$bin" run "$whole" > "$work/whole.log" 2>&1 || { cat "$work/whole.log"; fail "uninterrupted run"; }
setsid "$root/launch/mpi" -n 2 "$bin" run "$killed" > "$work/killed.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do  # the first checkpoint of the first training run, at most 60 s
  compgen -G "$work/killed/tiny/runs/*/checkpoint.pt" > /dev/null && break
  sleep 0.1
done
kill -KILL -- "-$launcher"  # mpirun and both ranks, no chance to clean up
wait "$launcher" 2>/dev/null || true
[ ! -f "$work/killed/tiny/results.h5" ] || fail "the run finished before it could be killed"
"$root/launch/mpi" -n 2 "$bin" run "$killed" > "$work/resumed.log" 2>&1 || { cat "$work/resumed.log"; fail "resumed run"; }
"$python" "$here/check_results.py" "$work/whole/tiny/results.h5" "$work/killed/tiny/results.h5" --resumed

echo "== DP-SGD victims, data parallel over 2 ranks vs 1 rank"
dp_edit='s/^settings = .*/settings = ["fbb", "dis"]/; s/^seeds = \[3\]/seeds = [3]\nranks_per_run = 2/'
dp_one=$(config_for dp_one "$work/dp_one" 's/^settings = .*/settings = ["fbb", "dis"]/')
dp_two=$(config_for dp_two "$work/dp_two" "$dp_edit")
printf '\n[privacy]\nnoise_multipliers = [0.8]\nmax_grad_norm = 0.5\n' | tee -a "$dp_one" >> "$dp_two"
"$root/launch/mpi" -n 1 "$bin" run "$dp_one" > "$work/dp_one.log" 2>&1 || { cat "$work/dp_one.log"; fail "DP run"; }
"$root/launch/mpi" -n 2 "$bin" run "$dp_two" > "$work/dp_two.log" 2>&1 || { cat "$work/dp_two.log"; fail "data-parallel DP run"; }
grep -q "data parallel over 2 ranks" "$work/dp_two/tiny/logs/rank-0.log" || fail "training was not data parallel"
grep -q "| privacy | ε |" "$work/dp_two/tiny/report.md" || fail "no privacy columns in the report's victim table"
grep -q "| dcgan, DP σ=0.8 | fbb | yes |" "$work/dp_two.log" || fail "no DP rows in the leak table"
"$python" "$here/check_results.py" "$work/dp_one/tiny/results.h5" "$work/dp_two/tiny/results.h5" --close

echo "== models of the zoo compared, 1 rank vs 2 ranks"
zoo_edit='s/^settings = .*/settings = ["fbb", "dis", "wb"]/; s/^z_dim = 16/name = ["pggan", "sngan", "vae", "vaegan", "vaegan-larsen"]\nz_dim = 16/'
zoo_one=$(config_for zoo_one "$work/zoo_one" "$zoo_edit")
zoo_two=$(config_for zoo_two "$work/zoo_two" "$zoo_edit")
"$root/launch/mpi" -n 1 "$bin" run "$zoo_one" > "$work/zoo_one.log" 2>&1 || { cat "$work/zoo_one.log"; fail "model sweep, 1 rank"; }
"$root/launch/mpi" -n 2 "$bin" run "$zoo_two" > "$work/zoo_two.log" 2>&1 || { cat "$work/zoo_two.log"; fail "model sweep, 2 ranks"; }
"$python" "$here/check_results.py" "$work/zoo_one/tiny/results.h5" "$work/zoo_two/tiny/results.h5"
grep -q "| n | model | FID (8×8 px) | AUC dis | AUC fbb | AUC fbb-squared | AUC wb |" "$work/zoo_two/tiny/report.md" || fail "no model comparison in the report"
grep -q "| vae | wb | yes |" "$work/zoo_two.log" || fail "no VAE rows in the leak table"
# GAN-Leaks' code searches its VAEGAN's latents without the norm penalty, every other model's with it.
"$python" - "$work/zoo_two/tiny/results.h5" <<'PY' || fail "the wb searches' latent norm penalty per model"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    groups = []
    f.visititems(lambda name, obj: groups.append((name, obj)) if "lambda_reg" in obj.attrs else None)
    assert groups, "no wb group records lambda_reg"
    for name, group in groups:
        expected = 0.0 if group.attrs["model"] == "vaegan" else 0.001
        assert group.attrs["lambda_reg"] == expected, (name, group.attrs["lambda_reg"], expected)
    assert any(g.attrs["model"] == "vaegan" for _, g in groups), "no vaegan wb group"
PY

echo "== MEDGAN on a CSV of binary records, members from classes 0-1"
"$python" - "$work/records.csv" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
label = rng.integers(0, 4, 400)
prototypes = rng.random((4, 24)) < 0.5       # one binary pattern per class, 10 % of its bits flipped
x = prototypes[label] ^ (rng.random((400, 24)) < 0.1)
np.savetxt(sys.argv[1], np.column_stack([x.astype(int), label]), fmt="%d", delimiter=",",
           header=",".join([f"f{i}" for i in range(24)] + ["label"]), comments="")
PY
medgan_edit="s#^reference_size = 64#reference_size = 64\ndataset = \"tabular\"\npath = \"$work/records.csv\"\nmember_selection = \"class\"\nmember_classes = [0, 1]#; s/^settings = .*/settings = [\"fbb\", \"dis\", \"wb\"]/; s/^z_dim = 16/name = \"medgan\"\nz_dim = 16/; s/^checkpoint_every = 20/checkpoint_every = 20\npretrain_iterations = 20/"
medgan=$(config_for medgan "$work/medgan" "$medgan_edit")
"$root/launch/mpi" -n 2 "$bin" run "$medgan" > "$work/medgan.log" 2>&1 || { cat "$work/medgan.log"; fail "MEDGAN run"; }
"$python" "$here/check_results.py" "$work/medgan/tiny/results.h5"
"$python" - "$work/medgan/tiny/results.h5" "$work/records.csv" <<'PY' || fail "MEDGAN results"
import sys, h5py, numpy as np
labels = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)[:, -1]
with h5py.File(sys.argv[1], "r") as f:
    split = f["splits/seed3"]
    assert set(labels[split["train_pool"][()]]) <= {0, 1}, "members outside data.member_classes"
    assert set(labels[split["holdout"][()]]) <= {2, 3}, "non-members from the member classes"
    victim = f["runs/victim-n48-s3"]
    assert victim.attrs["iterations"] == 60, "20 autoencoder + 40 GAN iterations"
    assert victim.attrs["sample_quality_measure"].startswith("dimension-wise"), victim.attrs["sample_quality_measure"]
    assert 0 <= victim.attrs["sample_quality"] <= 1
PY

echo "== shadow models: LiRA and RMIA on 1 and 2 ranks; K raised from 2 to 4 keeps the first 2 shadows"
shadow_edit='s/^name = "tiny"/name = "tiny-shadow"/; s/^settings = .*/settings = ["fbb", "dis"]/; s/^reference_size = 64/reference_size = 160/'
shadow_config() {  # shadow_config NAME K [MODE]: [attack] is tiny.toml's last section
  local c; c=$(config_for "$1" "$work/$1" "$shadow_edit")
  printf 'shadow_models = %s\nshadow_mode = "%s"\nrmia_population = 40\n' "$2" "${3:-online}" >> "$c"
  echo "$c"
}
shadow_one=$(shadow_config shadow-one 4); shadow_two=$(shadow_config shadow-two 4)
"$root/launch/mpi" -n 1 "$bin" run "$shadow_one" > "$work/shadow-one.log" 2>&1 || { cat "$work/shadow-one.log"; fail "shadow run, 1 rank"; }
"$root/launch/mpi" -n 2 "$bin" run "$shadow_two" > "$work/shadow-two.log" 2>&1 || { cat "$work/shadow-two.log"; fail "shadow run, 2 ranks"; }
for row in "| dcgan | fbb | LiRA online |" "| dcgan | dis | LiRA offline |" "| dcgan | fbb | RMIA online |"; do
  grep -qF "$row" "$work/shadow-two.log" || { cat "$work/shadow-two.log"; fail "no row $row"; }
done
[ -s "$work/shadow-two/tiny-shadow/plots/roc_n48_fbb.dat" ] || fail "no per-signal ROC data (raw, calibrated, LiRA, RMIA)"
# The scores are recomputed from the stored signals with numpy/scipy there, to 1e-10.
"$python" "$here/check_results.py" "$work/shadow-one/tiny-shadow/results.h5" "$work/shadow-two/tiny-shadow/results.h5"
shadow_grown=$(shadow_config shadow-grown 2)
"$root/launch/mpi" -n 2 "$bin" run "$shadow_grown" > "$work/shadow-grown.log" 2>&1 || { cat "$work/shadow-grown.log"; fail "K = 2"; }
sed -i 's/^shadow_models = 2/shadow_models = 4/' "$shadow_grown"
"$root/launch/mpi" -n 2 "$bin" run "$shadow_grown" > "$work/shadow-grown.log" 2>&1 || { cat "$work/shadow-grown.log"; fail "K = 4 after 2"; }
# 23 of 39 jobs kept: the reference, 2 victims, 4 shadows, 4 attacks, 12 signal jobs (only the shadow attacks read K;
# they are named by it, so the K = 2 scores stay in attacks/ beside the new ones, out of results.h5).
grep -q "23 already done" "$work/shadow-grown.log" || { cat "$work/shadow-grown.log"; fail "raising K redid finished jobs"; }
"$python" "$here/check_results.py" "$work/shadow-two/tiny-shadow/results.h5" "$work/shadow-grown/tiny-shadow/results.h5"
shadow_offline=$(shadow_config shadow-offline 4 offline)
"$root/launch/mpi" -n 2 "$bin" run "$shadow_offline" > "$work/shadow-offline.log" 2>&1 || { cat "$work/shadow-offline.log"; fail "offline shadows"; }
grep -qF "| dcgan | fbb | RMIA offline |" "$work/shadow-offline.log" || { cat "$work/shadow-offline.log"; fail "no offline RMIA"; }
"$python" "$here/check_results.py" "$work/shadow-offline/tiny-shadow/results.h5"

echo "== bad input: exit code 2, one line naming the cause"
bad=$(config_for bad "$work/bad" 's/^batch_size = 16/batch_size = 0/')
expect_user_error "out-of-range value" "train.batch_size = 0" "$root/launch/mpi" -n 2 "$bin" run "$bad"
printf '[train]\nbatchsize = 3\n' > "$work/unknown.toml"
expect_user_error "unknown key" "unknown key 'train.batchsize'" "$bin" run "$work/unknown.toml"
expect_user_error "missing config" "nope.toml" "$bin" run "$work/nope.toml"
nodata=$(config_for nodata "$work/nodata" 's#^\[data\]#[data]\npath = "/nonexistent/fmnist"#')
expect_user_error "missing dataset" "/nonexistent/fmnist" "$root/launch/mpi" -n 2 "$bin" run "$nodata"
touch "$work/a-file"
unwritable=$(config_for unwritable "$work/a-file/results")
expect_user_error "unwritable results folder" "$work/a-file" "$root/launch/mpi" -n 2 "$bin" run "$unwritable"
expect_user_error "ranks_per_run not dividing the ranks" "ranks_per_run = 2 does not divide the 1 ranks" \
  "$root/launch/mpi" -n 1 "$bin" run "$dp_two"
printf 'f0,f1\n1,0\n0,nan\n' > "$work/bad.csv"
badcsv=$(config_for badcsv "$work/badcsv" "s#^reference_size = 64#reference_size = 64\ndataset = \"tabular\"\npath = \"$work/bad.csv\"#; s/^z_dim = 16/name = \"medgan\"\nz_dim = 16/")
expect_user_error "NaN in a CSV" "bad.csv" "$root/launch/mpi" -n 2 "$bin" run "$badcsv"
expect_user_error "image model on records" "is a model of images" "$bin" run "$(config_for mismatch "$work/mismatch" 's/^reference_size = 64/reference_size = 64\ndataset = "fashion-mnist-binary"/')"
changed=$(config_for changed "$work/two" 's/^iterations = 40/iterations = 41/')
sum_before=$(sha256sum "$work/two/tiny/results.h5")
expect_user_error "other experiment in the folder" "different config" "$root/launch/mpi" -n 2 "$bin" run "$changed"
[ "$sum_before" = "$(sha256sum "$work/two/tiny/results.h5")" ] || fail "earlier results were modified"

echo "== devices: every record says where its job ran; cuda without a GPU is one line, exit 2"
"$python" - "$work/two/tiny/results.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    groups = [f["runs"][name] for name in f["runs"]] + [f["attacks"][name] for name in f["attacks"]]
    devices = {g.attrs["device"] for g in groups}
    assert devices <= {"cpu", "cuda:0"} and devices, devices
PY
if ! "$python" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  expect_user_error "cuda without a GPU" 'experiment.device = "cuda"' "$root/launch/mpi" -n 2 "$bin" run \
    "$(config_for gpuless "$work/gpuless" 's/^seeds = \[3\]/seeds = [3]\ndevice = "cuda"/')"
fi
echo "e2e: all checks passed"
