#pragma once
// A command line for the parsers under test: argv[0] first, as main() gets it.
#include <initializer_list>
#include <string>
#include <vector>

namespace pulse::tools::test {

class Argv {
 public:
  Argv(std::initializer_list<std::string> words) : words_(words) {
    for (const auto& w : words_) ptrs_.push_back(w.c_str());
  }
  int argc() const { return static_cast<int>(ptrs_.size()); }
  const char* const* argv() const { return ptrs_.data(); }

 private:
  std::vector<std::string> words_;
  std::vector<const char*> ptrs_;
};

}  // namespace pulse::tools::test
