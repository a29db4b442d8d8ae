#pragma once
// Error types that decide how ganleaks exits.
//
// UserError: the input is wrong (config, dataset, results folder). The message names the file, key or
// value and what was expected; `ganleaks` prints it on one line and exits with kExitUserError.
// Anything else that escapes is an internal failure (exit 1, MPI_Abort when ranks are running).
#include <stdexcept>
#include <string>

namespace ganleaks {

inline constexpr int kExitUserError = 2;

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A configuration file or value is invalid.
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

// A dataset file is missing or malformed.
class DataError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace ganleaks
