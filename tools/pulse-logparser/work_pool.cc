#include "work_pool.h"

#include <spdlog/spdlog.h>

namespace pulse::logparser {

Done run_task(const Task& task, const FetchOptions& fetch, const ParserOptions& parser,
              const std::function<bool(std::chrono::milliseconds)>& sleep) {
  Done done{task.input, task.job.routing_key, nullptr};
  const std::string key = task.job.identity.value("job_key", "");
  if (task.job.logurl.empty()) {
    spdlog::warn("logparser: event=no_logurl job_key={}", key);
    done.payload = summary_payload(task.job, {}, "the message has no logurl", nullptr);
    return done;
  }
  Fetched f = fetch_log(task.job.logurl, fetch, sleep);
  if (f.abandoned) return done;
  if (!f.error.empty()) {
    spdlog::warn("logparser: event=fetch_failed job_key={} logurl={} attempts={} error=\"{}\"", key,
                 task.job.logurl, f.info.attempts, f.error);
    done.payload = summary_payload(task.job, f.info, f.error, nullptr);
    return done;
  }
  Parser p(parser);
  p.feed(f.body);
  p.finish();
  f.body = std::string();  // the log's memory goes back before the summary waits to be sent
  spdlog::info(
      "logparser: event=parsed job_key={} logurl={} bytes={} duration_ms={} attempts={} "
      "failures={} truncated={} routing_key={}",
      key, task.job.logurl, f.info.bytes, f.info.duration_ms, f.info.attempts, p.counts().failures,
      p.truncated(), done.routing_key);
  done.payload = summary_payload(task.job, f.info, "", &p);
  return done;
}

WorkPool::WorkPool(unsigned threads, FetchOptions fetch, ParserOptions parser)
    : fetch_(std::move(fetch)), parser_(parser) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkPool::~WorkPool() {
  stop();
}

void WorkPool::submit(Task task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
    ++outstanding_;
  }
  cv_.notify_one();
}

std::vector<Done> WorkPool::take_done() {
  std::lock_guard lock(mu_);
  std::vector<Done> out;
  out.swap(done_);
  outstanding_ -= out.size();
  return out;
}

size_t WorkPool::outstanding() const {
  std::lock_guard lock(mu_);
  return outstanding_;
}

void WorkPool::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    outstanding_ -= tasks_.size();
    tasks_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

bool WorkPool::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_; });
}

void WorkPool::work() {
  const auto sleep = [this](std::chrono::milliseconds d) { return sleep_for(d); };
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    Done done;
    try {
      done = run_task(task, fetch_, parser_, sleep);
    } catch (const std::exception& e) {
      // Out of memory on a huge log, say: a summary with the error (a requeue would fail the
      // same way for ever), and the worker goes on.
      spdlog::error("logparser: event=job_failed error=\"{}\"", e.what());
      done =
          Done{task.input, task.job.routing_key,
               summary_payload(task.job, {}, std::string("internal error: ") + e.what(), nullptr)};
    }
    std::lock_guard lock(mu_);
    done_.push_back(std::move(done));
  }
}

}  // namespace pulse::logparser
