#pragma once
// Typed collectives over a Comm: arrays of trivially copyable values travel as their bytes, anything else
// Boost.Serialization can write (strings, structs with serialize(), vectors of them) as its archive. Every rank
// of the communicator calls the same function in the same order.
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "dist/comm.h"
#include "dist/serialize.h"

namespace ganleaks::dist {

template <class T>
concept Plain = std::is_trivially_copyable_v<T>;

namespace detail {
template <Plain T>
std::vector<std::byte> bytes_of(std::span<const T> values) {
  std::vector<std::byte> bytes(values.size_bytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}
template <Plain T>
std::vector<T> values_of(std::span<const std::byte> bytes) {
  std::vector<T> values(bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), bytes.data(), values.size() * sizeof(T));
  return values;
}
}  // namespace detail

// Root's array on every rank (resized where it differs).
template <Plain T>
void broadcast(const Comm& comm, std::vector<T>& values, int root) {
  auto bytes = detail::bytes_of<T>(values);
  comm.broadcast(bytes, root);
  values = detail::values_of<T>(bytes);
}
inline void broadcast(const Comm& comm, std::string& text, int root) {
  std::vector<char> chars(text.begin(), text.end());
  broadcast(comm, chars, root);
  text.assign(chars.begin(), chars.end());
}
// Root's value of any serialisable type on every rank.
template <class T>
T broadcast_value(const Comm& comm, const T& value, int root) {
  auto bytes = comm.rank() == root ? to_bytes(value) : std::vector<std::byte>{};
  comm.broadcast(bytes, root);
  return from_bytes<T>(bytes);
}

// Every rank's array, on root in rank order (empty elsewhere); and on every rank.
template <Plain T>
std::vector<std::vector<T>> gather(const Comm& comm, std::span<const T> local, int root) {
  std::vector<std::vector<T>> out;
  for (const auto& part : comm.gather(detail::bytes_of(local), root)) out.push_back(detail::values_of<T>(part));
  return out;
}
template <Plain T>
std::vector<std::vector<T>> all_gather(const Comm& comm, std::span<const T> local) {
  std::vector<std::vector<T>> out;
  for (const auto& part : comm.all_gather(detail::bytes_of(local))) out.push_back(detail::values_of<T>(part));
  return out;
}
// Every rank's value of any serialisable type, in rank order: on root, and on every rank.
template <class T>
std::vector<T> gather_values(const Comm& comm, const T& local, int root) {
  std::vector<T> out;
  for (const auto& part : comm.gather(to_bytes(local), root)) out.push_back(from_bytes<T>(part));
  return out;
}
template <class T>
std::vector<T> all_gather_values(const Comm& comm, const T& local) {
  std::vector<T> out;
  for (const auto& part : comm.all_gather(to_bytes(local))) out.push_back(from_bytes<T>(part));
  return out;
}

}  // namespace ganleaks::dist
