#pragma once
// The RE2 options of every pattern RabbitMQ matches with Erlang's re (permissions, topic
// permissions, policy patterns). re:run without the `unicode` option works on bytes, so Latin-1
// mode (one byte, one character) gives the same matches for any byte string, UTF-8 included.
#include <re2/re2.h>

namespace pulse::auth {

inline RE2::Options erlang_regex_options() {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);
  o.set_log_errors(false);
  return o;
}

}  // namespace pulse::auth
