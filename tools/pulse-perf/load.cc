// Producer and consumer threads: one connection each.
#include <thread>

#include "body.h"
#include "run.h"

namespace pulse::perf {

using std::chrono::milliseconds;

namespace {

void wait_for_go(Run& run) {
  while (!run.go.load(std::memory_order_acquire) && !run.abort.load()) {
    std::this_thread::sleep_for(milliseconds(1));
  }
}

}  // namespace

void producer_main(Run& run, size_t index) {
  const PerfOptions& o = run.o;
  ProducerState& me = *run.producers[index];
  auto finish = [&] {
    me.finished = Clock::now();
    me.done = true;
  };
  auto conn_r = connect(o, "pulse-perf producer " + std::to_string(index));
  if (!conn_r) {
    run.fail("producer " + std::to_string(index) + ": " + conn_r.error().text);
    run.ready++;
    return finish();
  }
  auto& conn = **conn_r;
  auto ch_r = conn.open_channel();
  Status st = ch_r ? Status() : Status(ch_r.error());
  client::Channel* ch = ch_r ? *ch_r : nullptr;
  if (st && o.confirm > 0) st = ch->confirm_select();
  if (!st) {
    run.fail("producer " + std::to_string(index) + ": " + st.error().text);
    run.ready++;
    return finish();
  }
  if (ch->confirm_mode()) {
    ch->on_confirm([&me](uint64_t first, uint64_t last, bool ack) {
      (ack ? me.confirmed : me.nacked).add(last - first + 1);
      if (!ack) me.nacked_ranges.emplace_back(first, last);  // tag n is sequence number n
    });
  }
  ch->on_return([&me](const client::Returned&) { me.returned.add(); });

  amqp::BasicProperties props;
  if (o.persistent) props.set_delivery_mode(2);
  const std::string encoded = client::Channel::encode_properties(props);
  std::string body(o.size, '\0');
  const uint64_t limit = o.producer_messages;
  const std::chrono::duration<double> per_msg(o.rate > 0 ? 1.0 / o.rate : 0);

  run.ready++;
  wait_for_go(run);
  const auto started = Clock::now();
  uint64_t seq = 0;
  auto fail = [&](const Error& e) {
    run.fail("producer " + std::to_string(index) + ": " + e.text);
  };
  while (!run.stop_producers.load(std::memory_order_relaxed) && !run.abort.load()) {
    if (limit != 0 && seq >= limit) break;
    if (conn.blocked() || (o.confirm > 0 && ch->unconfirmed() >= o.confirm)) {
      // Blocked by the broker's alarms, or the confirm window is full: serve input only.
      if (auto s = conn.pump(milliseconds(10)); !s) return fail(s.error()), finish();
      continue;
    }
    if (o.rate > 0) {
      const auto due = started + std::chrono::duration_cast<Clock::duration>(per_msg * seq);
      const auto now = Clock::now();
      if (now < due) {
        auto wait = std::chrono::ceil<milliseconds>(due - now);
        if (auto s = conn.pump(wait); !s) return fail(s.error()), finish();
        continue;
      }
    }
    ++seq;
    write_body(body, me.tag, seq, o.latency ? run.now_us() : 0);
    // Counted before it can possibly arrive: consumers check sequence numbers against it.
    me.sent.set(seq);
    auto r = ch->publish_encoded(run.exchange, me.routing_key, body, encoded, o.mandatory);
    if (!r) return fail(r.error()), finish();
  }
  Status end = conn.flush();
  me.finished = Clock::now();
  if (end && ch->confirm_mode()) {
    // Wait for the outstanding confirms; the broker owes them.
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(std::max(o.drain_timeout, 10.0)));
    while (end && ch->unconfirmed() > 0 && Clock::now() < deadline && !run.abort.load()) {
      end = conn.pump(milliseconds(50));
    }
    me.unconfirmed_at_end = ch->unconfirmed();
  }
  if (!end) fail(end.error());
  me.done = true;
  if (auto s = conn.close(); !s && end) fail(s.error());
}

void consumer_main(Run& run, size_t index) {
  const PerfOptions& o = run.o;
  ConsumerState& me = *run.consumers[index];
  auto conn_r = connect(o, "pulse-perf consumer " + std::to_string(index));
  if (!conn_r) {
    run.fail("consumer " + std::to_string(index) + ": " + conn_r.error().text);
    run.ready++;
    me.done = true;
    return;
  }
  auto& conn = **conn_r;
  auto ch_r = conn.open_channel();
  Status st = ch_r ? Status() : Status(ch_r.error());
  client::Channel* ch = ch_r ? *ch_r : nullptr;
  if (st && o.prefetch > 0) st = ch->qos(o.prefetch);

  QueueTracker* tracker = run.trackers[me.queue].get();
  const uint32_t nproducers = static_cast<uint32_t>(run.producers.size());
  std::vector<Receipt> batch;
  batch.reserve(4096);
  std::vector<uint64_t> sent(nproducers);
  uint64_t received = 0, unacked = 0, last_tag = 0;
  bool enough = false;
  const uint64_t ack_every =
      o.multi_ack == 0
          ? 1
          : (o.prefetch > 0 ? std::min<uint64_t>(o.multi_ack, o.prefetch) : o.multi_ack);

  auto on_delivery = [&](const client::Delivery& d) {
    ++received;
    BodyInfo info;
    if (!read_body(d.body, info) || info.producer_tag < run.tag_base ||
        info.producer_tag - run.tag_base >= nproducers) {
      me.foreign.add();
    } else {
      if (tracker) batch.push_back({info.producer_tag - run.tag_base, info.seq, d.redelivered});
      if (o.latency) me.latency.record(static_cast<uint32_t>(run.now_us() - info.sent_us));
    }
    if (o.consumer_latency_us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(o.consumer_latency_us));
    }
    if (!o.auto_ack) {
      last_tag = d.delivery_tag;
      if (++unacked >= ack_every) {
        (void)d.channel->ack(d.delivery_tag, ack_every > 1);
        unacked = 0;
      }
    }
    if (o.consumer_messages != 0 && received >= o.consumer_messages) enough = true;
  };
  if (st) {
    ch->on_cancel([&run, index](std::string_view) {
      run.fail("consumer " + std::to_string(index) + ": cancelled by the server");
    });
    client::ConsumeOptions co;
    co.no_ack = o.auto_ack;
    auto tag = ch->consume(run.queue_names[me.queue], on_delivery, co);
    if (!tag) st = tag.error();
  }
  if (!st) {
    run.fail("consumer " + std::to_string(index) + ": " + st.error().text);
    run.ready++;
    me.done = true;
    return;
  }
  run.ready++;
  auto flush_batch = [&] {
    me.received.set(received);
    if (tracker && !batch.empty()) {
      for (uint32_t p = 0; p < nproducers; ++p) sent[p] = run.producers[p]->sent.get();
      tracker->apply(batch, sent);
      batch.clear();
    }
  };
  while (!run.stop_consumers.load(std::memory_order_relaxed) && !run.abort.load() && !enough) {
    const uint64_t before = received;
    st = conn.pump(milliseconds(50));
    if (received != before) {
      me.last_receive_ns.set(run.now_ns());
      flush_batch();
    }
    if (!st) break;
  }
  flush_batch();
  if (st && unacked > 0) st = ch->ack(last_tag, true);
  if (st) st = conn.flush();
  if (!st) run.fail("consumer " + std::to_string(index) + ": " + st.error().text);
  me.done = true;
  (void)conn.close();
}

}  // namespace pulse::perf
