#include "pulse/push/engine.h"

#include <algorithm>

#include "base/log.h"
#include "base/url.h"

namespace pulse::push {

using nlohmann::json;

namespace {

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string hub_query(const Subscription& s, const char* mode, const std::string& challenge,
                      uint64_t lease) {
  std::string q = std::string("hub.mode=") + mode + "&hub.topic=" + percent_encode(s.topic);
  if (!challenge.empty()) q += "&hub.challenge=" + challenge;
  if (lease != 0) q += "&hub.lease_seconds=" + std::to_string(lease);
  q += "&pulse.vhost=" + percent_encode(s.vhost) + "&pulse.exchange=" + percent_encode(s.exchange) +
       "&pulse.subscription=" + s.id;
  return q;
}

bool success(const Outcome& o) {
  return o.reached && o.status >= 200 && o.status < 300;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string describe(const Outcome& o) {
  if (!o.reached) return "unreachable: " + o.error;
  return "HTTP " + std::to_string(o.status);
}

Engine::Engine(Source& source, Transport& transport, accounts::AccountStore& store,
               Settings settings, std::function<TimePoint()> clock)
    : source_(source),
      transport_(transport),
      store_(store),
      settings_(std::move(settings)),
      clock_(clock ? std::move(clock) : std::function<TimePoint()>([] { return Clock::now(); })) {}

Status Engine::load() {
  auto records = store_.load_all();
  if (!records) return std::move(records).error();
  entries_.clear();
  for (const auto& r : *records) {
    auto j = json::parse(r.json, nullptr, false);
    if (j.is_discarded()) return Error{500, "push subscription '" + r.key + "': not JSON"};
    auto s = from_record(j);
    if (!s) return Error{500, "push subscription '" + r.key + "': " + s.error().text};
    Entry e{.sub = std::move(*s), .backoff = Backoff(settings_.retry)};
    entries_.emplace(e.sub.id, std::move(e));
  }
  last_save_ = clock_();
  return {};
}

Result<Engine::Subscribed> Engine::subscribe(const std::string& caller, const Request& r) {
  const auto now = clock_();
  for (auto& [id, e] : entries_) {
    const auto& s = e.sub;
    const bool live = s.state == State::kActive || s.state == State::kVerifying;
    if (live && s.owner == caller && s.vhost == r.vhost && s.exchange == r.exchange &&
        s.topic == r.topic && s.callback == r.callback) {
      e.renewal = r;
      e.next_attempt = now;
      return Subscribed{&e.sub, true};
    }
  }
  size_t owned = 0;
  for (const auto& [id, e] : entries_)
    if (e.sub.owner == caller &&
        (e.sub.state == State::kActive || e.sub.state == State::kVerifying))
      ++owned;
  if (owned >= settings_.limits.max_per_owner)
    return Error{409, "'" + caller + "' has " + std::to_string(owned) +
                          " push subscriptions, the most allowed"};
  if (auto s = source_.check(r.vhost, r.exchange); !s) return s.error();
  Subscription s;
  do {
    s.id = random_hex(16);
  } while (entries_.contains(s.id));
  s.owner = caller;
  s.queue_owner = r.queue_owner.empty() ? caller : r.queue_owner;
  s.vhost = r.vhost;
  s.exchange = r.exchange;
  s.topic = r.topic;
  s.callback = r.callback;
  s.secret = r.secret;
  s.lease_seconds = r.lease_seconds;
  s.created = now;
  s.expires = now + std::chrono::seconds(r.lease_seconds);
  s.state = State::kVerifying;
  Entry e{.sub = std::move(s), .next_attempt = now, .backoff = Backoff(settings_.retry)};
  auto [it, _] = entries_.emplace(e.sub.id, std::move(e));
  save(it->second);
  spdlog::info("push: subscription {} by '{}' to {} '{}' in vhost '{}' -> {} (verifying)",
               it->first, caller, it->second.sub.exchange, it->second.sub.topic,
               it->second.sub.vhost, it->second.sub.callback);
  return Subscribed{&it->second.sub, false};
}

Status Engine::unsubscribe(const std::string& id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return Error{404, "no push subscription '" + id + "'"};
  Entry& e = it->second;
  if (e.sub.state == State::kActive || e.held) {
    if (auto s = source_.remove(e.sub); !s && s.error().code != 404) return s;
  }
  if (auto s = store_.remove(e.sub.key()); !s) return s;
  spdlog::info("push: subscription {} deleted", id);
  entries_.erase(it);
  return {};
}

const Subscription* Engine::find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.sub;
}

std::vector<const Subscription*> Engine::list() const {
  std::vector<const Subscription*> out;
  for (const auto& [id, e] : entries_) out.push_back(&e.sub);
  std::ranges::sort(out, [](const Subscription* a, const Subscription* b) {
    return std::tie(a->created, a->id) < std::tie(b->created, b->id);
  });
  return out;
}

bool Engine::in_retry(const std::string& id) const {
  auto it = entries_.find(id);
  return it != entries_.end() && it->second.backoff.attempts() > 0;
}

TimePoint Engine::poll() {
  const auto now = clock_();
  if (stopped_) return now + std::chrono::hours(1);
  std::vector<std::string> purge;
  for (auto& [id, e] : entries_) {
    step(e, now);
    const bool over = e.sub.state == State::kFailed || e.sub.state == State::kEnded;
    if (over && !e.in_flight && now >= e.sub.expires + settings_.keep_ended) purge.push_back(id);
  }
  for (const auto& id : purge) {
    (void)store_.remove(entries_.at(id).sub.key());
    entries_.erase(id);
  }
  if (now >= last_save_ + settings_.save_counts) {
    last_save_ = now;
    for (auto& [id, e] : entries_)
      if (e.dirty) save(e);
  }
  // When to look again: the earliest retry, lease end or purge, at most idle_poll away for
  // active subscriptions (a queue gets messages without telling us).
  TimePoint due = now + settings_.save_counts;
  for (const auto& [id, e] : entries_) {
    const auto& s = e.sub;
    if (s.state == State::kActive) {
      due = std::min(due, s.expires);
      if (!e.in_flight) due = std::min(due, std::max(e.next_attempt, now + settings_.idle_poll));
    } else if (s.state == State::kVerifying) {
      if (!e.in_flight) due = std::min(due, e.next_attempt);
    } else {
      due = std::min(due, s.expires + settings_.keep_ended);
    }
  }
  return std::max(due, now);
}

void Engine::step(Entry& e, TimePoint now) {
  Subscription& s = e.sub;
  if (s.state == State::kVerifying) {
    if (!e.in_flight && now >= e.next_attempt) start_verify(e, s.secret, s.lease_seconds);
    return;
  }
  if (s.state != State::kActive) return;
  if (now >= s.expires) {
    end(e, State::kEnded, "lease expired", now);
    Job bye{.subscription = s.id,
            .kind = Job::Kind::kUnsubscribe,
            .method = "GET",
            .url = with_query(s.callback, hub_query(s, "unsubscribe", "", 0))};
    send(e, std::move(bye));
    e.in_flight.reset();  // its outcome changes nothing
    return;
  }
  if (e.in_flight || now < e.next_attempt) return;
  if (e.renewal) {
    start_verify(e, e.renewal->secret, e.renewal->lease_seconds);
    return;
  }
  if (!e.opened) {
    if (auto st = source_.open(s); !st) {
      s.last_error = "cannot declare the queue: " + st.error().text;
      e.next_attempt = now + e.backoff.next();
      return;
    }
    e.opened = true;
  }
  if (!e.held) {
    auto m = source_.next(s);
    if (!m) {
      if (m.error().code == 404) {
        end(e, State::kFailed, "the subscription's queue is gone: " + m.error().text, now);
      } else {
        s.last_error = m.error().text;
        e.next_attempt = now + e.backoff.next();
      }
      return;
    }
    if (!*m) {
      e.next_attempt = now + settings_.idle_poll;
      return;
    }
    if ((*m)->body.size() > settings_.limits.max_body) {
      source_.ack(s);
      ++s.failed;
      s.last_error = "a message of " + std::to_string((*m)->body.size()) +
                     " bytes was dropped: over the limit of " +
                     std::to_string(settings_.limits.max_body);
      e.dirty = true;
      return;
    }
    e.held = delivery_body(**m);
    ++e.deliveries;
  }
  start_deliver(e);
}

uint64_t Engine::send(Entry& e, Job job) {
  job.id = next_job_++;
  jobs_[job.id] = e.sub.id;
  e.in_flight = job.id;
  transport_.start(std::move(job));
  return e.in_flight.value_or(0);
}

void Engine::start_verify(Entry& e, const std::string& secret, uint64_t lease) {
  (void)secret;
  e.challenge = random_hex(32);
  Job j{.subscription = e.sub.id,
        .kind = Job::Kind::kVerify,
        .method = "GET",
        .url = with_query(e.sub.callback, hub_query(e.sub, "subscribe", e.challenge, lease))};
  j.headers = {{"User-Agent", "pulse-push"}};
  send(e, std::move(j));
}

void Engine::start_deliver(Entry& e) {
  const std::string& body = *e.held;
  Job j{.subscription = e.sub.id,
        .kind = Job::Kind::kDeliver,
        .method = "POST",
        .url = e.sub.callback,
        .body = body};
  j.headers = {{"Content-Type", "application/json"},
               {"User-Agent", "pulse-push"},
               {"X-Hub-Signature-256", signature(e.sub.secret, body)},
               {"X-Pulse-Subscription", e.sub.id},
               {"X-Pulse-Delivery", e.sub.id + "-" + std::to_string(e.sub.delivered + 1)}};
  send(e, std::move(j));
}

void Engine::complete(const Outcome& o) {
  auto job = jobs_.find(o.job);
  if (job == jobs_.end()) return;
  const std::string id = job->second;
  jobs_.erase(job);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.in_flight != o.job) return;  // deleted or ended
  Entry& e = it->second;
  e.in_flight.reset();
  if (stopped_) return;
  const auto now = clock_();
  if (e.sub.state == State::kVerifying || e.renewal) {
    on_verified(e, o, now);
  } else if (e.sub.state == State::kActive) {
    on_delivered(e, o, now);
  }
}

void Engine::on_verified(Entry& e, const Outcome& o, TimePoint now) {
  Subscription& s = e.sub;
  std::string why;
  if (!success(o)) {
    why = describe(o);
  } else if (trim(o.body) != e.challenge) {
    why = "the callback did not echo the challenge";
  }
  if (e.renewal) {
    const Request r = *e.renewal;
    e.renewal.reset();
    if (!why.empty()) {
      s.last_error = "renewal refused: " + why;
      save(e);
      return;
    }
    s.secret = r.secret;
    s.lease_seconds = r.lease_seconds;
    if (s.state == State::kActive) {
      s.expires = now + std::chrono::seconds(r.lease_seconds);
      save(e);
      spdlog::info("push: subscription {} renewed for {} s", s.id, r.lease_seconds);
      return;
    }
  }
  if (!why.empty()) {
    end(e, State::kFailed, "verification failed: " + why, now);
    return;
  }
  if (auto st = source_.open(s); !st) {
    end(e, State::kFailed, "cannot declare the queue: " + st.error().text, now);
    return;
  }
  e.opened = true;
  s.state = State::kActive;
  s.expires = now + std::chrono::seconds(s.lease_seconds);
  e.next_attempt = now;
  save(e);
  spdlog::info("push: subscription {} verified, active until lease end", s.id);
}

void Engine::on_delivered(Entry& e, const Outcome& o, TimePoint now) {
  Subscription& s = e.sub;
  if (success(o)) {
    source_.ack(s);
    e.held.reset();
    ++s.delivered;
    s.last_delivery = now;
    e.backoff.reset();
    e.next_attempt = now;
    e.dirty = true;
    return;
  }
  ++s.failed;
  s.last_error = describe(o);
  e.dirty = true;
  if (o.reached && o.status == 410) {
    e.held.reset();  // goes with the queue
    end(e, State::kEnded, "the callback answered 410 Gone", now);
    return;
  }
  e.next_attempt = now + e.backoff.next();
}

void Engine::end(Entry& e, State state, std::string reason, TimePoint now) {
  Subscription& s = e.sub;
  const bool had_queue = s.state == State::kActive;
  if (had_queue) {
    if (auto st = source_.remove(s); !st && st.error().code != 404)
      spdlog::warn("push: subscription {}: cannot delete its queue: {}", s.id, st.error().text);
  }
  e.held.reset();
  e.opened = false;
  e.renewal.reset();
  s.state = state;
  s.reason = std::move(reason);
  s.expires = now;
  save(e);
  spdlog::info("push: subscription {} {}: {}", s.id, state_name(state), s.reason);
}

void Engine::save(Entry& e) {
  e.dirty = false;
  if (auto st = store_.put({e.sub.key(), to_record(e.sub).dump()}); !st)
    spdlog::error("push: cannot store subscription {}: {}", e.sub.id, st.error().text);
}

void Engine::stop() {
  stopped_ = true;
  for (auto& [id, e] : entries_) {
    if (e.held) {
      source_.release(e.sub);
      e.held.reset();
    }
    if (e.dirty) save(e);
  }
}

}  // namespace pulse::push
