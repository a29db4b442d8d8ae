#pragma once
// The jobs of model extraction (Stealing GANs, Hu & Pang ACSAC 2021; docs/extraction.md) beside the training jobs
// (extraction/task.cpp):
//  - queries: the target answers the thief's queries (latents from the thief's prior), through a defense or not;
//    the answers go to queries/<id>.h5 with the defense's utility cost (FID of defended vs undefended answers);
//  - refine: accuracy extraction's subsampling of the target's samples with its calibrated discriminator
//    (Metropolis-Hastings or DRS), to refined/<id>.h5;
//  - evaluate: fidelity FID(attack, target), accuracy FID(attack, real) and the class-histogram JS divergences of a
//    trained model, to extraction/<id>.h5;
//  - classifier: the network behind every FID and class histogram, trained once per setting and cached.
// Every collective job shards samples in fixed chunks (extraction/statistics.h), so its results do not depend on
// the number of ranks. LibTorch stays behind this header.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <functional>

#include "data/pool.h"
#include "data/splits.h"
#include "dist/comm.h"
#include "extraction/config.h"
#include "extraction/plan.h"
#include "runner/layout.h"

namespace ganleaks::extraction {

// The task's folders under the experiment folder, and where each job's record goes.
inline constexpr std::string_view kQueriesFolder = "queries", kRefinedFolder = "refined", kEvaluationsFolder = "extraction";
std::filesystem::path queries_file(const runner::Layout& layout, const std::string& job);
std::filesystem::path refined_file(const runner::Layout& layout, const std::string& job);
std::filesystem::path evaluation_file(const runner::Layout& layout, const std::string& job);
// Shared by every experiment under the same results_dir: the classifier of one setting (classifier_cache_key).
std::filesystem::path classifier_dir(const runner::Layout& layout, const Config& config);
std::filesystem::path classifier_record(const std::filesystem::path& classifier_dir);

struct ExtractionInputs {
  const Config& config;
  const runner::Layout& layout;
  const dist::Comm& world;
  at::Device device;  // this rank's (dist/device.h)
  const data::Pool& pool;
  const data::ExtractionSplits& splits;  // of the job's seed
};

// kQueries, kRefine and kEvaluate jobs: every rank of `world` calls these for the same job; rank 0 writes the record.
void answer_queries(const Job& job, const ExtractionInputs& in);  // queries.cpp
void refine(const Job& job, const ExtractionInputs& in);          // refine_job.cpp
void evaluate(const Job& job, const ExtractionInputs& in);        // evaluate.cpp

// The kClassifier job, on one rank: trains the classifier on Fashion-MNIST's training files, measures its accuracy
// on the test files, and writes classifier.pt and then classifier_record(dir).
void train_classifier_job(const Job& job, const Config& config, const runner::Layout& layout, int rank,
                          const at::Device& device, const std::function<void()>& between_steps = {});

// features.extractor = "torchscript": loads and probes the user's network, a UserError naming the file if it is not
// a usable feature network (run before any work starts).
void check_feature_network(const Config& config);

}  // namespace ganleaks::extraction
