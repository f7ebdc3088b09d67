#pragma once
// Errors. Two kinds, because the CLI maps them to different exit codes:
//   InputError    - the user's input is wrong (config, files, options): exit 2, fixable by them.
//   InternalError - a sinklab invariant broke: exit 1, a bug to report.
// SINKLAB_CHECK(cond, "fmt {}", x) throws InternalError with file:line context;
// SINKLAB_INPUT_CHECK(cond, "fmt {}", x) throws InputError with the message alone.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace sinklab {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual int exit_code() const = 0;
};

class InputError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

class InternalError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 1; }
};

[[noreturn]] void throw_internal(const char* file, int line, const std::string& message);

}  // namespace sinklab

#define SINKLAB_CHECK(cond, ...)                                                          \
  do {                                                                                    \
    if (!(cond)) ::sinklab::throw_internal(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__)); \
  } while (0)

#define SINKLAB_INPUT_CHECK(cond, ...)                                   \
  do {                                                                   \
    if (!(cond)) throw ::sinklab::InputError(::fmt::format(__VA_ARGS__)); \
  } while (0)
