#include "store/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace pulse::store {

Error io_error(const std::string& what, const std::string& path, int err) {
  return Error{541, "INTERNAL_ERROR - store: " + what + " " + path + ": " + std::strerror(err)};
}

Error store_error(std::string text) {
  return Error{541, "INTERNAL_ERROR - store: " + text};
}

Result<std::shared_ptr<File>> File::open(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return io_error("open", path, errno);
  return std::shared_ptr<File>(new File(fd, path, false));
}

Result<std::shared_ptr<File>> File::open_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open dir", path, errno);
  return std::shared_ptr<File>(new File(fd, path, true));
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

Status File::write_all(std::span<const uint8_t> data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path_, errno);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return ok_status();
}

Status File::pread_all(uint64_t offset, std::span<uint8_t> out) const {
  while (!out.empty()) {
    ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read", path_, errno);
    }
    if (n == 0) return store_error("short read in " + path_);
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return ok_status();
}

Status File::sync() {
  int rc = is_dir_ ? ::fsync(fd_) : ::fdatasync(fd_);
  if (rc != 0) return io_error("sync", path_, errno);
  return ok_status();
}

Result<uint64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return io_error("stat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status File::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate", path_, errno);
  return ok_status();
}

Status read_file(const std::string& path, std::vector<uint8_t>& out) {
  auto f = File::open(path, O_RDONLY);
  if (!f) return std::move(f).error();
  auto sz = (*f)->size();
  if (!sz) return std::move(sz).error();
  out.resize(*sz);
  if (*sz == 0) return ok_status();
  return (*f)->pread_all(0, out);
}

Status sync_dir(const std::string& path) {
  auto d = File::open_dir(path);
  if (!d) return std::move(d).error();
  return (*d)->sync();
}

Status write_file_atomic(const std::string& path, std::span<const uint8_t> data) {
  if (auto s = write_temp_file(path, data); !s) return s;
  return replace_with_temp(path);
}

Status write_temp_file(const std::string& path, std::span<const uint8_t> data) {
  const std::string tmp = path + ".tmp";
  auto f = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!f) return std::move(f).error();
  Status s = (*f)->write_all(data);
  if (s) s = (*f)->sync();
  if (!s) ::unlink(tmp.c_str());  // best effort: the space a full disk needs back
  return s;
}

Status replace_with_temp(const std::string& path) {
  const std::string tmp = path + ".tmp";
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename", tmp, errno);
  return sync_dir(std::filesystem::path(path).parent_path().string());
}

Status make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return io_error("mkdir", path, ec.value());
  return ok_status();
}

Status remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return io_error("remove", path, ec.value());
  return ok_status();
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

}  // namespace pulse::store
