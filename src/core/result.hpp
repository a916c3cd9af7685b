#pragma once
// A value or an error, for module boundaries (C++20 has no std::expected).
#include <string>
#include <utility>
#include <variant>

namespace saker {

struct Error {
  std::string code;     // short, stable, usable as a metric label: "invalid_json", "missing_rule", ...
  std::string message;  // what happened and what to do, for humans
  std::size_t column = 0;  // 1-based position in the input it refers to (filters, templates); 0 when none
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(code), std::move(message)};
}

}  // namespace saker
