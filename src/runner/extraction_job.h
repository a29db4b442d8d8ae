#pragma once
// The jobs of model extraction (Stealing GANs, Hu & Pang ACSAC 2021; docs/extraction.md), beside the training
// jobs every experiment has:
//  - queries: the target answers the thief's queries (latents from the thief's prior), through a defense or not;
//    the answers go to queries/<id>.h5 with the defense's utility cost (FID of defended vs undefended answers);
//  - refine: accuracy extraction's subsampling of the target's samples with its calibrated discriminator
//    (Metropolis-Hastings or DRS), to refined/<id>.h5;
//  - evaluate: fidelity FID(attack, target), accuracy FID(attack, real) and the class-histogram JS divergences
//    of a trained model, to extraction/<id>.h5;
//  - classifier: the network behind every FID and class histogram, trained once per setting and cached.
// Every collective job shards samples in fixed chunks (runner/sample_statistics.h), so its results do not depend
// on the number of ranks. LibTorch stays behind this header.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>

#include "core/config.h"
#include "data/pool.h"
#include "data/splits.h"
#include "dist/comm.h"
#include "runner/layout.h"
#include "runner/plan.h"

namespace ganleaks::runner {

struct ExtractionInputs {
  const Config& config;
  const Layout& layout;
  const dist::Comm& world;
  const data::Pool& pool;
  const data::ExtractionSplits& splits;  // of the job's seed
};

// kQueries, kRefine and kEvaluate jobs: every rank of `world` calls this for the same job; rank 0 writes the record.
void run_extraction_job(const Job& job, const ExtractionInputs& inputs);

// The kClassifier job, on one rank: trains the classifier on Fashion-MNIST's training files, measures its
// accuracy on the test files, and writes classifier.pt and then classifier_record(dir).
void train_classifier_job(const Job& job, const Config& config, const Layout& layout, int rank,
                          const std::function<void()>& between_steps = {});
std::filesystem::path classifier_record(const std::filesystem::path& classifier_dir);

// features.extractor = "torchscript": loads and probes the user's network, a UserError naming the file if it is
// not a usable feature network (run before any work starts).
void check_feature_network(const Config& config);

// An attack run's training set: the first job.queries answers of its queries job, or accuracy extraction's
// refined samples followed by the thief's partial real records.
at::Tensor thief_training_set(const Job& attack_run, const ExtractionInputs& inputs);

}  // namespace ganleaks::runner
