#pragma once
// What ranks tell rank 0's coordinator, serialized with Boost.Serialization (dist/serialize.h).
#include "runner/job.h"

namespace ganleaks::runner {

// Message tags on the coordinator's private communicator.
inline constexpr int kTagRequest = 1;  // worker -> rank 0: "I am free" (+ how my last job went)
inline constexpr int kTagAssign = 2;   // rank 0 -> worker: the next job, or stop

struct Request {
  JobReport finished;  // job_id < 0 on a worker's first request

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & finished;
  }
};

struct Assignment {
  bool stop = false;
  Job job;

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & stop & job;
  }
};

}  // namespace ganleaks::runner
