#pragma once
// Values as bytes and back, with Boost.Serialization (binary archives, no header): what travels between ranks
// when it is not a plain array (dist/collectives.h).
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace ganleaks::dist {

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
  boost::iostreams::stream<boost::iostreams::array_source> in(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  boost::archive::binary_iarchive archive(in, boost::archive::no_header);
  T value;
  archive >> value;
  return value;
}

}  // namespace ganleaks::dist
