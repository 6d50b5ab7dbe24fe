#pragma once
// Thin POSIX file helpers. A File is shared (std::shared_ptr) so the storage thread can
// fdatasync it while the event loop rolls to a new segment or unlinks the old one: the
// descriptor is closed only when the last holder lets go, never under a pending sync.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace pulse::store {

// An I/O failure as an Error: INTERNAL_ERROR (541) with the path and strerror text.
Error io_error(const std::string& what, const std::string& path, int err);
Error store_error(std::string text);

class File {
 public:
  // flags as for open(2); O_CLOEXEC is always added.
  static Result<std::shared_ptr<File>> open(const std::string& path, int flags, int mode = 0644);
  // A directory handle, only for fsync after creating/renaming/unlinking entries in it.
  static Result<std::shared_ptr<File>> open_dir(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  Status write_all(std::span<const uint8_t> data);
  Status pread_all(uint64_t offset, std::span<uint8_t> out) const;
  // fdatasync for files; fsync for directories (fdatasync is not defined on them everywhere).
  Status sync();
  Result<uint64_t> size() const;
  Status truncate(uint64_t size);

 private:
  File(int fd, std::string path, bool is_dir) : fd_(fd), path_(std::move(path)), is_dir_(is_dir) {}
  int fd_;
  std::string path_;
  bool is_dir_;
};

// Reads a whole file; used at recovery where one big read beats many small ones.
Status read_file(const std::string& path, std::vector<uint8_t>& out);
// Writes `data` to path.tmp, fdatasyncs it, renames it over `path` and fsyncs the directory,
// so a crash leaves either the old or the new content, never a mix.
Status write_file_atomic(const std::string& path, std::span<const uint8_t> data);
// Its two steps. write_temp_file writes and fdatasyncs path.tmp, and removes it when that fails
// (a full disk): `path` is then untouched. replace_with_temp renames path.tmp over `path` and
// fsyncs the directory.
Status write_temp_file(const std::string& path, std::span<const uint8_t> data);
Status replace_with_temp(const std::string& path);
Status sync_dir(const std::string& path);
Status make_dirs(const std::string& path);
Status remove_all(const std::string& path);
bool exists(const std::string& path);

}  // namespace pulse::store
