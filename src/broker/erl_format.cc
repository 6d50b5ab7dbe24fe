#include "broker/erl_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "amqp/error_text.h"

namespace pulse::broker::erl {

using amqp::FieldTable;
using amqp::FieldValue;

namespace {

// Erlang prints a binary as text only when every byte is printable in latin1.
bool printable(unsigned char c) {
  return (c >= 32 && c <= 126) || c >= 160 || c == '\n' || c == '\r' || c == '\t' || c == '\v' ||
         c == '\b' || c == '\f' || c == 27;
}

}  // namespace

std::string quoted(std::string_view s) {
  std::string out = "\"";
  amqp::append_erlang_escaped(out, s);
  return out + "\"";
}

std::string binary(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char c) { return printable(c); }))
    return "<<" + quoted(s) + ">>";
  std::string out = "<<";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(static_cast<unsigned char>(s[i]));
  }
  return out + ">>";
}

// Erlang's shortest float form: the shorter of fixed and exponent notation, fixed on a tie
// (100.0, 1.0e3, 0.0001, 1.2345e-4).
std::string float_text(double d) {
  if (!std::isfinite(d)) return std::to_string(d);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  std::string s(buf, r.ptr);
  const size_t e = s.find('e');
  const int exp = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  const std::string sci = digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0") +
                          "e" + std::to_string(exp);
  std::string fixed;
  if (exp >= 0) {
    const size_t int_len = static_cast<size_t>(exp) + 1;
    fixed = digits.size() <= int_len ? digits + std::string(int_len - digits.size(), '0') + ".0"
                                     : digits.substr(0, int_len) + "." + digits.substr(int_len);
  } else {
    fixed = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  }
  return (std::signbit(d) ? "-" : "") + (fixed.size() <= sci.size() ? fixed : sci);
}

Term atomic(std::string text) {
  return Term{Term::kAtomic, std::move(text), {}};
}

Term to_term(const FieldValue& v) {
  if (const amqp::FieldArray* a = v.as_array()) {
    Term t{Term::kList, {}, {}};
    for (const auto& e : *a) t.elems.push_back(to_term(e));
    return t;
  }
  if (const FieldTable* tab = v.as_table()) {
    FieldTable sorted = *tab;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    Term t{Term::kMap, {}, {}};
    for (const auto& [k, e] : sorted) {
      t.elems.push_back(atomic(binary(k)));
      t.elems.push_back(to_term(e));
    }
    return t;
  }
  return atomic(term_text(v));
}

Term pair_term(const std::string& key, const FieldValue& v) {
  return Term{Term::kTuple, {}, {atomic(binary(key)), to_term(v)}};
}

std::string flat(const Term& t) {
  if (t.kind == Term::kAtomic) return t.text;
  std::string out = t.kind == Term::kTuple ? "{" : t.kind == Term::kList ? "[" : "#{";
  for (size_t i = 0; i < t.elems.size(); ++i) {
    if (t.kind == Term::kMap) {
      out += (i ? "," : "") + flat(t.elems[i]) + " => " + flat(t.elems[i + 1]);
      ++i;
    } else {
      out += (i ? "," : "") + flat(t.elems[i]);
    }
  }
  return out + (t.kind == Term::kList ? "]" : "}");
}

// Erlang breaks a term that would reach column 79.
constexpr size_t kLineFits = 78;

std::string pretty(const Term& t, size_t col) {
  std::string f = flat(t);
  if (col + f.size() <= kLineFits || t.kind == Term::kAtomic || t.elems.empty()) return f;
  const std::string open = t.kind == Term::kTuple ? "{" : t.kind == Term::kList ? "[" : "#{";
  const size_t inner = col + open.size();
  const std::string sep = ",\n" + std::string(inner, ' ');
  std::string out = open;
  for (size_t i = 0; i < t.elems.size(); ++i) {
    if (i) out += sep;
    if (t.kind == Term::kMap) {
      const std::string key = flat(t.elems[i]) + " => ";
      out += key + pretty(t.elems[i + 1], inner + key.size());
      ++i;
    } else {
      out += pretty(t.elems[i], inner);
    }
  }
  return out + (t.kind == Term::kList ? "]" : "}");
}

std::string with_term(const std::string& prefix, const Term& t, const std::string& suffix) {
  return prefix + pretty(t, prefix.size()) + suffix;
}

std::string with_term(const std::string& prefix, const FieldValue& v, const std::string& suffix) {
  return with_term(prefix, to_term(v), suffix);
}

std::string term_text(const FieldValue& v) {
  if (const std::string* s = v.as_string()) return binary(*s);
  if (const bool* b = v.as_bool()) return *b ? "true" : "false";
  if (auto i = v.as_int()) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v.v)) return float_text(*d);
  if (auto* f = std::get_if<float>(&v.v)) return float_text(*f);
  if (std::holds_alternative<amqp::Void>(v.v)) return "null";
  if (auto* t = std::get_if<amqp::Timestamp>(&v.v)) return std::to_string(t->value);
  if (auto* x = std::get_if<amqp::ByteArray>(&v.v)) return binary(x->bytes);
  if (auto* d = std::get_if<amqp::Decimal>(&v.v)) {
    return float_text(static_cast<double>(d->value) / std::pow(10.0, d->scale));
  }
  if (v.as_array() || v.as_table()) return flat(to_term(v));
  return "undefined";
}

}  // namespace pulse::broker::erl
