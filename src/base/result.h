#pragma once
// Errors travel as values. An Error carries the AMQP reply code it maps to, so any layer can
// fail with the exact code and text RabbitMQ clients expect to see.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace pulse {

struct Error {
  uint16_t code = 0;      // AMQP reply code (e.g. 404, 406, 501)
  std::string text;       // full reply text, e.g. "NOT_FOUND - no queue 'q' in vhost '/'"
  uint16_t class_id = 0;  // method that caused it, when known
  uint16_t method_id = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : err_(std::move(error)), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

 private:
  Error err_;
  bool failed_ = false;
};

inline Status ok_status() {
  return Status();
}

}  // namespace pulse
