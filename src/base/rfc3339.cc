#include "base/rfc3339.h"

#include <cstdint>
#include <cstdio>

namespace pulse {

namespace {

using namespace std::chrono;

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  bool next_is(std::string_view chars) const {
    return i_ < s_.size() && chars.find(s_[i_]) != std::string_view::npos;
  }
  bool eat(std::string_view chars) {
    if (!next_is(chars)) return false;
    ++i_;
    return true;
  }
  char take() { return s_[i_++]; }
  // From min to max decimal digits.
  std::optional<int> number(size_t min, size_t max) {
    const size_t start = i_;
    int v = 0;
    while (i_ - start < max && next_is("0123456789")) v = v * 10 + (take() - '0');
    if (i_ - start < min) return std::nullopt;
    return v;
  }
  // A fraction's digits as nanoseconds; digits past the ninth cannot change the value.
  std::optional<nanoseconds> fraction() {
    const size_t start = i_;
    int64_t ns = 0, scale = 100'000'000;
    while (next_is("0123456789")) {
      ns += (take() - '0') * scale;
      scale /= 10;
    }
    if (i_ == start) return std::nullopt;
    return nanoseconds(ns);
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::optional<SystemTime> parse(std::string_view text, bool management) {
  Cursor c(text);
  const auto y = c.number(4, 4);
  if (!y || !c.eat("-")) return std::nullopt;
  const auto mo = c.number(2, 2);
  if (!mo || !c.eat("-")) return std::nullopt;
  const auto d = c.number(2, 2);
  if (!d || !c.eat(management ? "Tt " : "Tt")) return std::nullopt;
  const auto h = c.number(management ? 1 : 2, 2);
  if (!h || !c.eat(":")) return std::nullopt;
  const auto mi = c.number(2, 2);
  if (!mi || !c.eat(":")) return std::nullopt;
  const auto s = c.number(2, 2);
  if (!s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                            day{static_cast<unsigned>(*d)}};
  if (!date.ok()) return std::nullopt;
  // The clock counts nanoseconds in 64 bits (1677-09-21 to 2262-04-11): a day outside that,
  // with a day's margin for the time and offset, is no time it can hold (the sum overflowed).
  const sys_days day0{date};
  if (day0 <= floor<days>(SystemTime::min()) + days(1) ||
      day0 >= floor<days>(SystemTime::max()) - days(1))
    return std::nullopt;

  nanoseconds frac{0};
  if (c.eat(".")) {
    const auto f = c.fraction();
    if (!f) return std::nullopt;
    frac = *f;
  }
  minutes offset{0};
  if (c.eat("Zz")) {
  } else if (c.next_is("+-")) {
    const bool minus = c.take() == '-';
    const auto oh = c.number(2, 2);
    const bool colon = c.eat(":");
    auto om = c.number(2, 2);
    if (!om && management && !colon) om = 0;  // "+01"
    if (!oh || !om || (!colon && !management) || *oh > 23 || *om > 59) return std::nullopt;
    offset = minutes(*oh * 60 + *om);
    if (minus) offset = -offset;
  } else if (!management) {
    return std::nullopt;
  }
  if (!c.done()) return std::nullopt;
  return SystemTime(day0) + hours(*h) + minutes(*mi) + seconds(*s) - offset +
         duration_cast<SystemTime::duration>(frac);
}

}  // namespace

std::optional<SystemTime> parse_rfc3339(std::string_view text) {
  return parse(text, false);
}

std::optional<SystemTime> parse_management_time(std::string_view text) {
  return parse(text, true);
}

std::string format_rfc3339_utc(SystemTime t, int fraction_digits, std::string_view utc_zone) {
  using namespace std::chrono;
  const auto midnight = floor<days>(t);
  const year_month_day date{midnight};
  const hh_mm_ss clock{floor<nanoseconds>(t - midnight)};
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  std::string out = buf;
  if (fraction_digits > 0) {
    std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(clock.subseconds().count()));
    out.append(".").append(buf, fraction_digits > 9 ? 9 : fraction_digits);
  }
  out += utc_zone;
  return out;
}

}  // namespace pulse
