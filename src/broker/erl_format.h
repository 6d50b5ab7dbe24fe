#pragma once
// Erlang's ~p rendering of the terms RabbitMQ puts in its error texts, so that pulsed's texts
// read the same: strings are binaries (<<"x">>), JSON null is the atom null, objects are
// maps, floats take Erlang's shortest form (1.0e3), and a term that does not fit the line is
// broken one element a line as io_lib_pretty does. Internal to the broker.
#include <string>
#include <string_view>
#include <vector>

#include "amqp/field_table.h"

namespace pulse::broker::erl {

struct Term {
  enum Kind { kAtomic, kTuple, kList, kMap } kind = kAtomic;
  std::string text;         // kAtomic: already rendered
  std::vector<Term> elems;  // kMap: key, value, key, value...
};

Term atomic(std::string text);
Term to_term(const amqp::FieldValue& v);
Term pair_term(const std::string& key, const amqp::FieldValue& v);  // {<<"key">>,Value}

std::string quoted(std::string_view s);  // a charlist: "text"
std::string binary(std::string_view s);  // <<"text">>, or <<1,2>> when not printable
std::string float_text(double d);
std::string term_text(const amqp::FieldValue& v);  // on one line

// One line when `t` fits before column 79, else broken: each element on its own line,
// aligned after the opening bracket (Erlang also packs lists of small terms several to a
// line; that is not reproduced).
std::string flat(const Term& t);
std::string pretty(const Term& t, size_t col);
// prefix ~p suffix, laid out from the column where the term starts.
std::string with_term(const std::string& prefix, const Term& t, const std::string& suffix = "");
std::string with_term(const std::string& prefix, const amqp::FieldValue& v,
                      const std::string& suffix = "");

}  // namespace pulse::broker::erl
