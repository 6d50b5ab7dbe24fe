#pragma once
// A STOMP error carries two texts, as RabbitMQ's ERROR frames do: a short `message` header
// ("Invalid destination") and a body that explains it ("'/queue/' is not a valid queue
// destination"). base's Error has one text and an AMQP reply code, so the codec has its own.
#include <string>
#include <utility>
#include <variant>

namespace pulse::stomp {

struct StompError {
  std::string message;  // the ERROR frame's `message` header
  std::string detail;   // the ERROR frame's body
};

template <typename T>
class [[nodiscard]] StompResult {
 public:
  StompResult(T value) : v_(std::move(value)) {}
  StompResult(StompError error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const StompError& error() const& { return std::get<1>(v_); }

 private:
  std::variant<T, StompError> v_;
};

}  // namespace pulse::stomp
