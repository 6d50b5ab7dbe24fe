// Stand-in for libFuzzer's main, so any compiler can run a target:
//   <target>_replay FILE|DIR...           runs LLVMFuzzerTestOneInput over every file (directories
//                                          walked): the committed corpus as a regression test;
//   <target>_replay --mutate S [--dict F] [--seed N] [--max-len N] DIR...
//                                          S seconds of blind mutation of those inputs
//                                          (mutate.h). A crash prints the input in hex and writes
//                                          it to crash-<target>-<seed>, ready to join the corpus.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mutate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using pulse::fuzz::Bytes;

// The input being run, for the crash handler.
const uint8_t* g_input = nullptr;
size_t g_input_size = 0;
char g_crash_path[512] = "";

void write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w <= 0) return;
    c += w;
    n -= static_cast<size_t>(w);
  }
}

// Async-signal-safe: only write(2), open(2) and a static buffer.
void on_crash(int sig) {
  static const char kHex[] = "0123456789abcdef";
  static char line[129];
  const char head[] = "\n== crash on this input (hex):\n";
  write_all(2, head, sizeof head - 1);
  for (size_t i = 0; i < g_input_size; i += 64) {
    size_t n = 0;
    for (size_t j = i; j < g_input_size && j < i + 64; ++j) {
      line[n++] = kHex[g_input[j] >> 4];
      line[n++] = kHex[g_input[j] & 15];
    }
    line[n++] = '\n';
    write_all(2, line, n);
  }
  const int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    write_all(fd, g_input, g_input_size);
    ::close(fd);
    const char saved[] = "== written to ";
    write_all(2, saved, sizeof saved - 1);
    write_all(2, g_crash_path, std::strlen(g_crash_path));
    write_all(2, "\n", 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void run(const Bytes& input) {
  // An exact-size heap copy, so sanitizers catch reads past the end.
  Bytes exact(input.begin(), input.end());
  g_input = exact.data();
  g_input_size = exact.size();
  LLVMFuzzerTestOneInput(exact.data(), exact.size());
  g_input = nullptr;
  g_input_size = 0;
}

bool read_file(const std::filesystem::path& p, Bytes& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

struct Args {
  double mutate_seconds = 0;
  std::string dict;
  uint64_t seed = 0;
  size_t max_len = 4096;
  std::vector<std::string> paths;
};

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--mutate" && has_value) {
      a.mutate_seconds = std::strtod(argv[++i], nullptr);
    } else if (arg == "--dict" && has_value) {
      a.dict = argv[++i];
    } else if (arg == "--seed" && has_value) {
      a.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--max-len" && has_value) {
      a.max_len = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg.starts_with("--")) {
      std::fprintf(stderr, "unknown or incomplete option %s\n", arg.c_str());
      return false;
    } else {
      a.paths.push_back(arg);
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) return 2;
  if (a.seed == 0)
    a.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  const std::string target = std::filesystem::path(argv[0]).filename().string();
  std::snprintf(g_crash_path, sizeof g_crash_path, "crash-%s-%llu", target.c_str(),
                static_cast<unsigned long long>(a.seed));
  for (int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, on_crash);

  std::vector<Bytes> corpus;
  int unreadable = 0;
  auto add = [&](const std::filesystem::path& p) {
    Bytes b;
    if (!read_file(p, b)) {
      std::fprintf(stderr, "cannot read %s\n", p.c_str());
      ++unreadable;
      return;
    }
    run(b);  // every corpus input is replayed first, in both modes
    corpus.push_back(std::move(b));
  };
  for (const auto& path : a.paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(path)) {
        if (e.is_regular_file()) add(e.path());
      }
    } else {
      add(path);
    }
  }
  std::printf("replayed %zu inputs\n", corpus.size());
  if (unreadable > 0 || corpus.empty()) return 1;
  if (a.mutate_seconds <= 0) return 0;

  pulse::fuzz::Mutator m(a.seed, corpus, pulse::fuzz::read_dictionary(a.dict), a.max_len);
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(a.mutate_seconds));
  uint64_t runs = 0;
  do {
    for (int i = 0; i < 64; ++i, ++runs) run(m.next());
  } while (std::chrono::steady_clock::now() < until);
  std::printf("mutated for %.0f s: %llu runs (seed %llu), no crash\n", a.mutate_seconds,
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(a.seed));
  return 0;
}
