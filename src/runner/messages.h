#pragma once
// What ranks tell each other, serialized with Boost.Serialization (portable binary archives over bytes).
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "runner/plan.h"

namespace ganleaks::runner {

// Message tags on the coordinator's private communicator.
inline constexpr int kTagRequest = 1;   // worker -> rank 0: "I am free" (+ how my last job went)
inline constexpr int kTagAssign = 2;    // rank 0 -> worker: the next job, or stop

struct JobReport {
  int job_id = -1;
  bool ok = true;
  std::string error;
  double wall_seconds = 0;
  int rank = 0;
  std::string host;
  bool interrupted = false;  // stopped early by a signal (core/interrupt.h), checkpointed; not done

  template <class Archive>
  void serialize(Archive& ar, unsigned) {
    ar & job_id & ok & error & wall_seconds & rank & host & interrupted;
  }
};

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

template <class T>
std::vector<std::byte> to_bytes(const T& value) {
  std::vector<char> buffer;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::vector<char>>> out(buffer);
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    archive << value;
  }
  const auto* begin = reinterpret_cast<const std::byte*>(buffer.data());
  return {begin, begin + buffer.size()};
}

template <class T>
T from_bytes(std::span<const std::byte> bytes) {
  boost::iostreams::stream<boost::iostreams::array_source> in(reinterpret_cast<const char*>(bytes.data()),
                                                               bytes.size());
  boost::archive::binary_iarchive archive(in, boost::archive::no_header);
  T value;
  archive >> value;
  return value;
}

}  // namespace ganleaks::runner
