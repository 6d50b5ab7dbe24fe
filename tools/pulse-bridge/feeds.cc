// The two feed formats: an HTTP JSON feed (JsonFeedPoller) and hg's pushlog (PushlogPoller).
#include <algorithm>
#include <charconv>
#include <set>

#include "base/log.h"
#include "poller.h"
#include "pulse/envelope.h"
#include "pulse/routing.h"

namespace pulse::bridge {
namespace {

using nlohmann::json;

std::string header_of(const mgmt::HttpReply& r, const char* name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

// The first failure among `outcomes`, as one error; OK when all were confirmed.
Status first_failure(const std::vector<Status>& outcomes) {
  const auto [ok, first] = tally(outcomes);
  if (!first) return {};
  return Error{0, std::to_string(outcomes.size() - ok) + " of " + std::to_string(outcomes.size()) +
                      " messages not confirmed: " + first->text};
}

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

// --- json_feed -----------------------------------------------------------------------------

Status JsonFeedPoller::restore(const json& c) {
  if (auto it = c.find("etag"); it != c.end() && it->is_string()) etag_ = *it;
  if (auto it = c.find("last_modified"); it != c.end() && it->is_string()) last_modified_ = *it;
  auto seen = c.find("seen");
  if (seen == c.end() || !seen->is_array()) return Error{0, "no \"seen\" array"};
  for (const auto& id : *seen) {
    if (!id.is_string()) return Error{0, "\"seen\" holds a non-string"};
    seen_.push_back(id);
  }
  return {};
}

json JsonFeedPoller::cursor() const {
  return {{"etag", etag_}, {"last_modified", last_modified_}, {"seen", seen_}};
}

Result<bool> JsonFeedPoller::poll_once() {
  mgmt::Headers h{{"accept", "application/json"}, {"user-agent", "pulse-bridge"}};
  if (!etag_.empty()) h.emplace_back("if-none-match", etag_);
  if (!last_modified_.empty()) h.emplace_back("if-modified-since", last_modified_);
  auto reply = client_->relay("GET", "", "", h);
  if (!reply) return Error{0, "GET " + source_.url + ": " + reply.error().text};
  if (reply->status == 304) {
    ++stats_.polls;
    spdlog::debug("bridge: source={} event=not_modified", source_.name);
    return false;
  }
  if (reply->status != 200)
    return Error{0, "GET " + source_.url + ": HTTP " + std::to_string(reply->status)};
  json body = json::parse(reply->body, nullptr, false);
  if (body.is_discarded()) return Error{0, "GET " + source_.url + ": the body is not JSON"};
  auto items = feed_items(body, source_.items_field);
  if (!items) return Error{0, "GET " + source_.url + ": " + items.error().text};
  ++stats_.polls;

  const std::set<std::string> seen(seen_.begin(), seen_.end());
  std::vector<const json*> order;
  for (const json& it : **items) order.push_back(&it);
  if (source_.reverse) std::reverse(order.begin(), order.end());
  std::vector<std::string> feed_ids;
  std::vector<std::string> new_ids;
  std::vector<Outgoing> out;
  const std::string key = source_.routing_key.empty() ? source_.name : source_.routing_key;
  size_t missing = 0;
  for (const json* it : order) {
    std::string id = item_id(*it, source_.id_field);
    if (id.empty()) {
      ++missing;
      continue;
    }
    if (std::find(feed_ids.begin(), feed_ids.end(), id) != feed_ids.end()) continue;
    feed_ids.push_back(id);
    if (seen.count(id)) continue;
    new_ids.push_back(id);
    out.push_back({exchange_, key, build_envelope(*it, exchange_, key)});
  }
  if (missing > 0 && !said_missing_ids_) {
    said_missing_ids_ = true;  // every poll would say it again
    spdlog::warn(
        "bridge: source={} event=items_without_id count={} id_field={} (skipped; logged once)",
        source_.name, missing, source_.id_field);
  }
  std::vector<Status> outcomes;
  if (!out.empty()) outcomes = publish(std::move(out));
  std::set<std::string> confirmed;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i]) confirmed.insert(new_ids[i]);
  }
  stats_.published += confirmed.size();
  // What is remembered: the ids still in the feed that were published before or now. An id
  // that left the feed is forgotten (the cursor stays as small as the feed).
  std::vector<std::string> next;
  for (const auto& id : feed_ids)
    if (seen.count(id) || confirmed.count(id)) next.push_back(id);
  seen_ = std::move(next);
  const Status all_confirmed = first_failure(outcomes);
  if (all_confirmed) {
    // Only when everything is in: a validator that says "nothing new" must not hide an item
    // that still waits to be published.
    etag_ = header_of(*reply, "etag");
    last_modified_ = header_of(*reply, "last-modified");
  }
  if (auto st = save(); !st) return st.error();
  if (!confirmed.empty()) {
    spdlog::info("bridge: source={} event=published count={} routing_key={}", source_.name,
                 confirmed.size(), key);
  }
  if (!all_confirmed) return all_confirmed.error();
  return false;
}

// --- hg_pushlog ------------------------------------------------------------------------------

std::string repo_routing_key(const std::string& repo_url) {
  auto u = mgmt::parse_url(repo_url);
  std::string path = u ? u->base_path : "";
  if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
  while (!path.empty() && path.front() == '/') path.erase(path.begin());
  path = strip_slashes(path);
  return path.empty() ? (u ? u->host : "_") : path;
}

Result<PushMessages> pushlog_messages(const json& reply, const std::string& repo_url, int64_t after,
                                      bool full) {
  if (!reply.is_object()) return Error{0, "not a pushlog (expected a JSON object)"};
  auto last = reply.find("lastpushid");
  auto pushes = reply.find("pushes");
  if (last == reply.end() || !last->is_number_integer() || pushes == reply.end() ||
      !pushes->is_object()) {
    return Error{0, "not a version 2 pushlog (no lastpushid and pushes)"};
  }
  PushMessages out;
  out.last_push_id = last->get<int64_t>();
  std::vector<std::pair<int64_t, const json*>> sorted;
  for (auto it = pushes->begin(); it != pushes->end(); ++it) {
    int64_t id = 0;
    const std::string& k = it.key();
    auto [p, ec] = std::from_chars(k.data(), k.data() + k.size(), id);
    if (ec != std::errc{} || p != k.data() + k.size() || !it->is_object())
      return Error{0, "push id '" + k + "' is not a number with an object"};
    if (id > after) sorted.emplace_back(id, &*it);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::string repo = strip_slashes(repo_url);
  for (const auto& [id, push] : sorted) {
    json heads = json::array();
    json changesets = push->value("changesets", json::array());
    if (changesets.is_array() && !changesets.empty()) {
      // The push's last changeset: the head a linear push leaves (a push of several heads
      // is rare; the pushlog does not say which changesets are heads).
      const json& lastcs = changesets.back();
      if (lastcs.is_string())
        heads.push_back(lastcs);
      else if (lastcs.is_object() && lastcs.contains("node"))
        heads.push_back(lastcs["node"]);
    }
    const std::string range = "startID=" + std::to_string(id - 1) + "&endID=" + std::to_string(id);
    json entry = {{"pushid", id},
                  {"time", push->value("date", json())},
                  {"user", push->value("user", json())},
                  {"push_json_url", repo + "/json-pushes?version=2&" + range},
                  {"push_full_json_url", repo + "/json-pushes?version=2&full=1&" + range}};
    if (full) entry["changesets"] = changesets;
    out.ids.push_back(id);
    out.payloads.push_back({{"type", "changegroup.1"},
                            {"data",
                             {{"repo_url", repo},
                              {"heads", heads},
                              {"pushlog_pushes", json::array({entry})},
                              {"source", "push"}}}});
  }
  return out;
}

Status PushlogPoller::restore(const json& c) {
  auto it = c.find("last_push_id");
  if (it == c.end() || !it->is_number_integer()) return Error{0, "no \"last_push_id\" integer"};
  last_push_id_ = *it;
  return {};
}

json PushlogPoller::cursor() const {
  return {{"last_push_id", last_push_id_}};
}

Result<bool> PushlogPoller::poll_once() {
  const mgmt::Headers h{{"accept", "application/json"}, {"user-agent", "pulse-bridge"}};
  if (last_push_id_ < 0 && source_.start_id >= 0) last_push_id_ = source_.start_id;
  std::string target = "/json-pushes?version=2";
  if (last_push_id_ >= 0) {
    target += "&startID=" + std::to_string(last_push_id_) +
              "&endID=" + std::to_string(last_push_id_ + source_.batch);
    if (source_.full) target += "&full=1";
  }
  auto reply = client_->relay("GET", target, "", h);
  const std::string what = "GET " + strip_slashes(source_.url) + target;
  if (!reply) return Error{0, what + ": " + reply.error().text};
  if (reply->status != 200) return Error{0, what + ": HTTP " + std::to_string(reply->status)};
  json body = json::parse(reply->body, nullptr, false);
  if (body.is_discarded()) return Error{0, what + ": the body is not JSON"};
  auto msgs =
      pushlog_messages(body, source_.url, std::max<int64_t>(last_push_id_, 0), source_.full);
  if (!msgs) return Error{0, what + ": " + msgs.error().text};
  ++stats_.polls;
  if (last_push_id_ < 0) {
    // No cursor and no start_id: from now on (the pushes made before are history).
    last_push_id_ = msgs->last_push_id;
    spdlog::info("bridge: source={} event=cursor_started last_push_id={}", source_.name,
                 last_push_id_);
    if (auto st = save(); !st) return st.error();
    return false;
  }
  const std::string key = repo_routing_key(source_.url);
  std::vector<Outgoing> out;
  for (const auto& p : msgs->payloads)
    out.push_back({exchange_, key, build_envelope(p, exchange_, key)});
  std::vector<Status> outcomes;
  if (!out.empty()) outcomes = publish(std::move(out));
  // The cursor moves over the pushes confirmed in a row: a later one confirmed after a failed
  // one is published again next time rather than the failed one skipped.
  size_t done = 0;
  while (done < outcomes.size() && outcomes[done]) ++done;
  stats_.published += done;
  const int64_t before = last_push_id_;
  if (done > 0) last_push_id_ = msgs->ids[done - 1];
  if (msgs->ids.empty() && msgs->last_push_id > last_push_id_ + source_.batch) {
    // A gap of more than a page (pushes removed): skip to the page's end.
    last_push_id_ += source_.batch;
  }
  if (last_push_id_ != before) {
    if (auto st = save(); !st) return st.error();
  }
  if (done > 0) {
    spdlog::info("bridge: source={} event=published count={} routing_key={} last_push_id={}",
                 source_.name, done, key, last_push_id_);
  }
  if (auto f = first_failure(outcomes); !f) return f.error();
  return msgs->last_push_id > last_push_id_;
}

}  // namespace pulse::bridge
