#include "httpd/static_files.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace pulse::httpd {

namespace fs = std::filesystem;

const char* const kStaticPagesCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'";

namespace {

// All of web/ is a few hundred KiB; this only stops a wrong --web-dir from filling memory.
constexpr uintmax_t kMaxTotal = 16 * 1024 * 1024;

const char* const kMounts[] = {"ui", "inspector", "examples"};

// `/` is the admin UI's page; its scripts and styles are below /ui/.
constexpr const char* kRootPage = "/ui/index.html";

std::string etag_of(const std::string& body) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: a change detector, not a security measure
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "\"%016llx-%zx\"", static_cast<unsigned long long>(h),
                body.size());
  return buf;
}

bool bad_segment(const std::string& s) {
  if (s == "." || s == "..") return true;
  for (char c : s)
    if (c == '/' || c == '\\' || c == '\0') return true;  // '/' only arrives encoded (%2F)
  return false;
}

}  // namespace

std::string static_content_type(const std::string& filename) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    const std::string e(ext);
    if (filename.size() > e.size() &&
        filename.compare(filename.size() - e.size(), e.size(), e) == 0)
      return type;
  }
  return "";
}

Result<StaticFiles> StaticFiles::load(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Error{0, "web directory " + root.string() + " does not exist"};
  StaticFiles out;
  uintmax_t total = 0;
  for (const char* mount : kMounts) {
    const fs::path dir = root / mount;
    if (!fs::is_directory(dir, ec)) continue;
    auto it =
        fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
    if (ec) return Error{0, "cannot read " + dir.string() + ": " + ec.message()};
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Error{0, "cannot read " + dir.string() + ": " + ec.message()};
      if (!it->is_regular_file(ec)) continue;
      const std::string name = it->path().filename().string();
      std::string type = static_content_type(name);
      if (type.empty() || name.front() == '.') continue;  // editor leftovers, READMEs' images...
      total += it->file_size(ec);
      if (total > kMaxTotal)
        return Error{0, "web directory " + root.string() + " holds more than 16 MiB"};
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream body;
      body << in.rdbuf();
      if (!in) return Error{0, "cannot read " + it->path().string()};
      // Lexically: fs::relative would resolve build/web's symlinks into the source tree.
      std::string url = "/" + it->path().lexically_relative(root).generic_string();
      File f{body.str(), std::move(type), ""};
      f.etag = etag_of(f.body);
      out.files_.emplace(std::move(url), std::move(f));
    }
  }
  return out;
}

bool StaticFiles::owns(const Request& req) {
  if (req.under_api) return false;
  if (req.segments.empty()) return req.path == "/";
  for (const char* mount : kMounts)
    if (req.segments[0] == mount) return true;
  return false;
}

Response StaticFiles::serve(const Request& req, std::string_view if_none_match) const {
  if (req.method != "GET") return method_not_allowed("GET, HEAD");
  std::string url;
  for (const auto& s : req.segments) {
    if (bad_segment(s)) return bad_request("invalid path");
    url += "/" + s;
  }
  const bool trailing_slash = !req.path.empty() && req.path.back() == '/';
  if (req.segments.empty()) {
    url = kRootPage;
  } else if (trailing_slash) {
    url += "/index.html";
  } else if (files_.count(url) == 0 && files_.count(url + "/index.html") != 0) {
    // A directory without its slash: relative links in its index need the slash.
    Response r = empty_response(301);
    r.headers.emplace_back("location", req.path + "/");
    return r;
  }
  auto it = files_.find(url);
  if (it == files_.end()) return not_found();
  const File& f = it->second;
  Response r;
  r.headers.emplace_back("etag", f.etag);
  r.headers.emplace_back("cache-control", "no-cache");
  // `/` answers with the server's CSP header, RabbitMQ's at its UI's address; the page
  // narrows it with the same policy in a <meta> tag (a document obeys both).
  if (!req.segments.empty()) r.headers.emplace_back("content-security-policy", kStaticPagesCsp);
  if (if_none_match == f.etag) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.body = f.body;
  r.content_type = f.content_type;
  return r;
}

}  // namespace pulse::httpd
