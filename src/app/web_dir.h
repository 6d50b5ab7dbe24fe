#pragma once
// Where pulsed finds its static pages (web/: the inspector, the browser example).
#include <string>

#include "http/static_files.h"

namespace pulse::app {

// `flag` (--web-dir) when given: it must load, or pulsed stops with the reason. Otherwise the
// first directory that exists of <exe>/../share/pulse/web (the package: /usr/sbin/pulsed ->
// /usr/share/pulse/web) and <exe>/../../web (a build tree: build/src/app/pulsed -> build/web,
// which CMake links to the sources); none found means no pages, said once in the log.
Result<http::StaticFiles> load_web_dir(const std::string& flag);

}  // namespace pulse::app
