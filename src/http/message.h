#pragma once
// The management API's request and response are httpd's (src/httpd/message.h): the same types
// the generic HTTP server hands to every handler.
#include "httpd/message.h"

namespace pulse::http {

using httpd::bad_request;
using httpd::dump_json;
using httpd::empty_response;
using httpd::error_response;
using httpd::json_response;
using httpd::login_failed;
using httpd::method_not_allowed;
using httpd::not_authorised;
using httpd::not_found;
using httpd::parse_target;
using httpd::Request;
using httpd::Response;
using httpd::url_decode;

}  // namespace pulse::http
