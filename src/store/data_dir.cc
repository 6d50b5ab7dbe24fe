#include "store/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <vector>

#include "store/file.h"

namespace pulse::store {
namespace {

constexpr char kVersionPrefix[] = "pulse-data-layout ";

// Files a crashed initialisation can leave before VERSION exists. Only these may be cleared;
// anything else in a VERSION-less directory is someone's data.
const std::set<std::string> kInitLeftovers = {"LOCK",
                                              "VERSION.tmp",
                                              "definitions.db",
                                              "definitions.db-wal",
                                              "definitions.db-shm",
                                              "definitions.db-journal",
                                              "queues"};

Error refuse(const std::string& path, const std::string& why) {
  return store_error("data directory " + path + ": " + why + "; refusing to start");
}

}  // namespace

std::string DataDir::queue_dir(uint64_t queue_id) const {
  return queues_path() + "/" + std::to_string(queue_id);
}

DataDir::~DataDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing drops the flock
}

Result<std::unique_ptr<DefinitionsStore>> DataDir::open_definitions() const {
  return DefinitionsStore::open(definitions_path(), false);
}

Result<std::unique_ptr<DataDir>> DataDir::open(const std::string& path) {
  if (auto s = make_dirs(path); !s) return std::move(s).error();
  std::string lock_path = path + "/LOCK";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", lock_path, errno);
  std::unique_ptr<DataDir> dir(new DataDir(path, fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    return refuse(path, "in use by another pulsed (LOCK is held)");
  }

  std::string version_path = path + "/VERSION";
  if (exists(version_path)) {
    std::vector<uint8_t> raw;
    if (auto s = read_file(version_path, raw); !s) return std::move(s).error();
    std::string text(raw.begin(), raw.end());
    std::string prefix = kVersionPrefix;
    if (text.rfind(prefix, 0) != 0) return refuse(path, "VERSION file is not a Pulse layout");
    int version = std::atoi(text.c_str() + prefix.size());
    if (version != kLayoutVersion) {
      return refuse(path, "layout version " + std::to_string(version) +
                              ", this pulsed supports version " + std::to_string(kLayoutVersion) +
                              " (use a matching pulsed or migrate the directory)");
    }
    if (!exists(dir->definitions_path())) {
      return refuse(path, "definitions.db is missing");
    }
    if (auto s = make_dirs(dir->queues_path()); !s) return std::move(s).error();
    return dir;
  }

  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
    if (!kInitLeftovers.count(e.path().filename().string())) {
      return refuse(path, "not empty and has no VERSION file (not a Pulse data directory?)");
    }
  }
  if (ec) return io_error("list", path, ec.value());
  // Leftovers of an initialisation that never wrote VERSION hold no user data: start over.
  for (const char* name : {"definitions.db", "definitions.db-wal", "definitions.db-shm",
                           "definitions.db-journal", "VERSION.tmp"}) {
    ::unlink((path + "/" + name).c_str());
  }
  if (auto s = make_dirs(dir->queues_path()); !s) return std::move(s).error();
  {
    auto defs = DefinitionsStore::open(dir->definitions_path(), true);
    if (!defs) return std::move(defs).error();
  }
  std::string content = kVersionPrefix + std::to_string(kLayoutVersion) + "\n";
  auto bytes =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(content.data()), content.size());
  if (auto s = write_file_atomic(version_path, bytes); !s) return std::move(s).error();
  dir->fresh_ = true;
  return dir;
}

}  // namespace pulse::store
