#include "httpd/web_dir.h"

#include <filesystem>

#include "base/log.h"

namespace pulse::httpd {

namespace fs = std::filesystem;

Result<StaticFiles> load_web_dir(const std::string& flag) {
  if (!flag.empty()) {
    auto files = StaticFiles::load(flag);
    if (!files) return Error{0, "--web-dir: " + files.error().text};
    spdlog::info("serving {} web files from {}", files->size(), flag);
    return files;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    for (const fs::path& dir :
         {bin / ".." / "share" / "pulse" / "web", bin / ".." / ".." / "web"}) {
      if (!fs::is_directory(dir / "inspector", ec)) continue;
      auto files = StaticFiles::load(dir);
      if (!files) return std::move(files).error();
      spdlog::info("serving {} web files from {}", files->size(), dir.lexically_normal().string());
      return files;
    }
  }
  spdlog::info("no web directory found (--web-dir): the admin UI and /inspector are not served");
  return StaticFiles();
}

}  // namespace pulse::httpd
