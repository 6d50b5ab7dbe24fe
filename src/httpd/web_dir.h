#pragma once
// Where pulsed and pulse-guardian find their static pages (web/: the admin UI, the inspector,
// the browser example): one search, so both serve the same files from the same places.
#include <string>

#include "httpd/static_files.h"

namespace pulse::httpd {

// `flag` (--web-dir) when given: it must load, or the program stops with the reason.
// Otherwise the first directory that exists of <exe>/../share/pulse/web (the package:
// /usr/sbin/pulsed, /usr/bin/pulse-guardian -> /usr/share/pulse/web) and <exe>/../../web (a
// build tree: build/src/app/pulsed, build/tools/pulse-guardian/pulse-guardian -> build/web,
// which CMake links to the sources); none found means no pages, said once in the log.
Result<StaticFiles> load_web_dir(const std::string& flag);

}  // namespace pulse::httpd
