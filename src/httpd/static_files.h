#pragma once
// The static pages pulsed and pulse-guardian serve beside the API: the admin UI (`/`, its files
// below `/ui/`), the live inspector (`/inspector/`) and the browser example (`/examples/browser/`),
// read from the web directory (web/ in the sources, /usr/share/pulse/web in the package). Files are
// read once, at start-up, into memory: a request is a lookup of its exact decoded path in that
// table, so nothing a client sends can name a file outside it.
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "httpd/message.h"

namespace pulse::httpd {

class StaticFiles {
 public:
  // Empty: serves nothing (every path 404).
  StaticFiles() = default;

  // Reads every regular file of a known type below `root` (directory symlinks followed, as
  // the build tree links web/ and examples/browser/ in). A missing root is an error; the
  // total is capped, since it stays in memory.
  static Result<StaticFiles> load(const std::filesystem::path& root);

  // True for the paths this serves: `/`, and /ui, /inspector, /examples and below.
  static bool owns(const Request& req);

  // GET/HEAD of a file (`dir/` means `dir/index.html`; `dir` redirects to `dir/`), with its
  // content type, an ETag (If-None-Match gives 304) and `cache-control: no-cache` so an
  // upgraded page is seen at once. 404 for unknown files, 400 for `..`, `.`, NUL or
  // backslashes in the path, 405 for other methods.
  Response serve(const Request& req, std::string_view if_none_match) const;

  size_t size() const { return files_.size(); }

 private:
  struct File {
    std::string body;
    std::string content_type;
    std::string etag;
  };
  std::map<std::string, File, std::less<>> files_;  // "/inspector/index.html" -> file
};

// The content type pulsed gives a file of this name ("" for types it does not serve).
std::string static_content_type(const std::string& filename);

// The Content-Security-Policy of the static pages: their own scripts and styles only (no
// inline code, nothing from elsewhere), fetches to the same origin and WebSocket connections
// (ws:, wss:) so the page reaches /ws here or the separate Web-STOMP listener (another port).
extern const char* const kStaticPagesCsp;

}  // namespace pulse::httpd
