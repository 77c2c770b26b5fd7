#pragma once
// A small expected<T, Error> with the std::expected API subset we use, so a move to C++23
// is mechanical. value() throws the Error, which is how a caller that cannot handle a
// failure hands it up to cmd/root.cpp.
#include <utility>
#include <variant>

#include "aiot/core/error.hpp"

namespace aiot {

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Expected(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    if (!has_value()) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!has_value()) throw std::get<1>(v_);
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!has_value()) throw std::get<1>(v_);
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace aiot
