// One error type for the whole project: an errno (0 when the failure is not
// a system call's) plus a human context that grows as it travels up.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace prochook {

class Error {
 public:
  Error(int err, std::string context) : err_(err), context_(std::move(context)) {}

  // A failure described by text alone (bad input, policy refusal).
  static Error Msg(std::string context) { return Error(0, std::move(context)); }
  // A failed system call: captures errno at the failure site.
  static Error Sys(std::string context) { return Error(errno, std::move(context)); }

  int err() const { return err_; }
  // "outer: inner: strerror" — the chain reads from the caller down.
  std::string message() const {
    return err_ == 0 ? context_ : context_ + ": " + std::strerror(err_);
  }
  Error Wrap(const std::string& outer) const { return Error(err_, outer + ": " + context_); }

 private:
  int err_;
  std::string context_;
};

struct Ok {};

// Result<T> holds a T or an Error. Result<> (T = Ok) is a plain status.
template <typename T = Ok>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace prochook

// Propagates an error with added context: TRY_WRAP(x, expr, "loading config").
#define PH_CONCAT_INNER(a, b) a##b
#define PH_CONCAT(a, b) PH_CONCAT_INNER(a, b)
#define TRY_ASSIGN(lhs, expr, ctx)                                              \
  auto PH_CONCAT(res_, __LINE__) = (expr);                                      \
  if (!PH_CONCAT(res_, __LINE__)) return PH_CONCAT(res_, __LINE__).error().Wrap(ctx); \
  lhs = std::move(PH_CONCAT(res_, __LINE__).value())
#define TRY(expr, ctx)                                   \
  do {                                                   \
    auto res_ = (expr);                                  \
    if (!res_) return res_.error().Wrap(ctx);            \
  } while (0)
