#include "broker/queue_args.h"

#include <cstdio>

namespace pulse::broker {

const char* rabbit_type_name(const amqp::FieldValue& v) {
  switch (v.tag()) {
    case 't':
      return "bool";
    case 'b':
      return "byte";
    case 'B':
      return "unsignedbyte";
    case 's':
      return "short";
    case 'u':
      return "unsignedshort";
    case 'I':
      return "signedint";
    case 'i':
      return "unsignedint";
    case 'l':
      return "long";
    case 'f':
      return "float";
    case 'd':
      return "double";
    case 'D':
      return "decimal";
    case 'S':
      return "longstr";
    case 'A':
      return "array";
    case 'T':
      return "timestamp";
    case 'F':
      return "table";
    case 'V':
      return "void";
    case 'x':
      return "binary";
  }
  return "unknown";
}

std::string rabbit_value_text(const amqp::FieldValue& v) {
  if (auto i = v.as_int()) return std::to_string(*i);
  if (auto s = v.as_string()) return *s;
  if (auto b = v.as_bool()) return *b ? "true" : "false";
  if (auto* d = std::get_if<double>(&v.v)) return std::to_string(*d);
  return "?";
}

namespace {

Error invalid_arg(const std::string& key, const std::string& what, const std::string& detail) {
  return Error{406, "PRECONDITION_FAILED - invalid arg '" + key + "' for " + what + ": " + detail};
}

Error unacceptable(const std::string& key, const amqp::FieldValue& v, const std::string& what) {
  return invalid_arg(key, what, std::string("{unacceptable_type,") + rabbit_type_name(v) + "}");
}

// RabbitMQ accepts any integer type for numeric arguments; anything else is a type error.
Result<int64_t> non_neg_int(const std::string& key, const amqp::FieldValue& v,
                            const std::string& what, bool allow_zero = true) {
  auto i = v.as_int();
  if (!i) {
    return invalid_arg(key, what,
                       std::string("\"expected integer, got ") + rabbit_type_name(v) + "\"");
  }
  if (*i < 0 || (!allow_zero && *i == 0)) {
    return invalid_arg(
        key, what,
        std::string(*i < 0 ? "{value_negative," : "{value_zero,") + std::to_string(*i) + "}");
  }
  return *i;
}

}  // namespace

Result<QueueArgs> parse_queue_args(const amqp::FieldTable& args, const std::string& what) {
  QueueArgs q;
  for (const auto& [key, v] : args) {
    if (key == "x-message-ttl") {
      auto r = non_neg_int(key, v, what);
      if (!r) return std::move(r).error();
      q.message_ttl = *r;
    } else if (key == "x-expires") {
      auto r = non_neg_int(key, v, what, false);
      if (!r) return std::move(r).error();
      q.expires = *r;
    } else if (key == "x-max-length") {
      auto r = non_neg_int(key, v, what);
      if (!r) return std::move(r).error();
      q.max_length = *r;
    } else if (key == "x-max-length-bytes") {
      auto r = non_neg_int(key, v, what);
      if (!r) return std::move(r).error();
      q.max_length_bytes = *r;
    } else if (key == "x-overflow") {
      const std::string* s = v.as_string();
      if (!s) return unacceptable(key, v, what);
      if (*s == "drop-head")
        q.overflow = Overflow::kDropHead;
      else if (*s == "reject-publish")
        q.overflow = Overflow::kRejectPublish;
      else if (*s == "reject-publish-dlx")
        q.overflow = Overflow::kRejectPublishDlx;
      else
        return invalid_arg(key, what, "invalid_overflow");
    } else if (key == "x-dead-letter-exchange") {
      const std::string* s = v.as_string();
      if (!s) return unacceptable(key, v, what);
      q.dead_letter_exchange = *s;
    } else if (key == "x-dead-letter-routing-key") {
      const std::string* s = v.as_string();
      if (!s) return unacceptable(key, v, what);
      q.dead_letter_routing_key = *s;
    } else if (key == "x-max-priority") {
      auto r = non_neg_int(key, v, what);
      if (!r) return std::move(r).error();
      if (*r > 255)
        return invalid_arg(key, what, "{max_value_exceeded," + std::to_string(*r) + "}");
      q.max_priority = static_cast<uint8_t>(*r);
    } else if (key == "x-single-active-consumer") {
      const bool* b = v.as_bool();
      if (!b) return unacceptable(key, v, what);
      q.single_active_consumer = *b;
    } else if (key == "x-queue-type") {
      const std::string* s = v.as_string();
      if (!s) return unacceptable(key, v, what);
      if (*s != "classic" && *s != "quorum") {
        return invalid_arg(key, what, "\"unsupported queue type '" + *s + "'\"");
      }
      q.quorum = *s == "quorum";
    } else if (key == "x-delivery-limit") {
      auto r = non_neg_int(key, v, what);
      if (!r) return std::move(r).error();
      q.delivery_limit = *r;
    }
  }
  if (q.dead_letter_routing_key && !q.dead_letter_exchange) {
    return invalid_arg("x-dead-letter-routing-key", what, "routing_key_but_no_dlx_defined");
  }
  return q;
}

void apply_queue_type(amqp::FieldTable& args, std::string_view type) {
  if (type.empty() || type == "classic" || amqp::find(args, "x-queue-type") != nullptr) return;
  amqp::set(args, "x-queue-type", amqp::FieldValue(std::string(type)));
}

}  // namespace pulse::broker
