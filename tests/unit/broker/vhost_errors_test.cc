// RabbitMQ's exact error codes and texts for queue, exchange, binding and publish failures
// (tests/integration/RABBITMQ_NOTES.md), table-driven.
#include <gtest/gtest.h>

#include <functional>

#include "broker_fixture.h"

namespace pulse::broker::testing {
namespace {

template <typename R>
Error error_of(const R& r) {
  return r.ok() ? Error{0, "<ok>"} : r.error();
}

struct ErrorCase {
  const char* name;
  std::function<Error(VHost&)> op;
  uint16_t code;
  std::string text;
};

class ErrorTexts : public BrokerTest, public ::testing::WithParamInterface<ErrorCase> {
 protected:
  void SetUp() override {
    declare("q", {{"x-message-ttl", int32_t{1000}}});
    declare("full");
    to_queue("full", "m");
    exchange("x", "direct");
    bind("q", "x", "k");
    QueueDeclare d;
    d.name = "excl";
    d.exclusive = true;
    d.connection_id = 7;
    ASSERT_TRUE(vh.declare_queue(d).ok());
  }
};

TEST_P(ErrorTexts, MatchRabbitMq) {
  Error e = GetParam().op(vh);
  EXPECT_EQ(e.code, GetParam().code);
  EXPECT_EQ(e.text, GetParam().text);
}

QueueDeclare qd(std::string name, FieldTable args = {}, bool durable = false, bool passive = false,
                uint64_t conn = 1) {
  QueueDeclare d;
  d.name = std::move(name);
  d.arguments = std::move(args);
  d.durable = durable;
  d.passive = passive;
  d.connection_id = conn;
  return d;
}

ExchangeDeclare xd(std::string name, std::string type, bool passive = false) {
  ExchangeDeclare d;
  d.name = std::move(name);
  d.type = std::move(type);
  d.passive = passive;
  return d;
}

Message msg_to(std::string x, std::string key, amqp::BasicProperties p = {}) {
  Message m;
  m.exchange = std::move(x);
  m.routing_key = std::move(key);
  m.set_properties(std::move(p));
  return m;
}

const std::string kLocked =
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'excl' in vhost '/'. It "
    "could be originally declared on another connection or the exclusive property value does "
    "not match that of the original declaration.";

INSTANTIATE_TEST_SUITE_P(
    Texts, ErrorTexts,
    ::testing::Values(
        ErrorCase{"publish_missing_exchange",
                  [](VHost& v) { return error_of(v.publish(msg_to("nope", "k"))); }, 404,
                  "NOT_FOUND - no exchange 'nope' in vhost '/'"},
        ErrorCase{"passive_missing_queue",
                  [](VHost& v) { return error_of(v.declare_queue(qd("nope", {}, false, true))); },
                  404, "NOT_FOUND - no queue 'nope' in vhost '/'"},
        ErrorCase{"passive_missing_exchange",
                  [](VHost& v) { return error_of(v.declare_exchange(xd("nope", "", true))); }, 404,
                  "NOT_FOUND - no exchange 'nope' in vhost '/'"},
        ErrorCase{"bind_missing_both_reports_exchange",
                  [](VHost& v) { return error_of(v.bind_queue("nq", "nx", "", {}, 1)); }, 404,
                  "NOT_FOUND - no exchange 'nx' in vhost '/'"},
        ErrorCase{"purge_missing_queue",
                  [](VHost& v) { return error_of(v.purge_queue("nope", 1)); }, 404,
                  "NOT_FOUND - no queue 'nope' in vhost '/'"},
        ErrorCase{"exclusive_passive_other_conn",
                  [](VHost& v) { return error_of(v.declare_queue(qd("excl", {}, false, true))); },
                  405, kLocked},
        ErrorCase{"exclusive_redeclare_other_conn",
                  [](VHost& v) {
                    auto d = qd("excl");
                    d.exclusive = true;
                    return error_of(v.declare_queue(d));
                  },
                  405, kLocked},
        ErrorCase{"exclusive_bind_other_conn",
                  [](VHost& v) { return error_of(v.bind_queue("excl", "x", "", {}, 1)); }, 405,
                  kLocked},
        ErrorCase{"exclusive_delete_other_conn",
                  [](VHost& v) { return error_of(v.delete_queue("excl", false, false, 1)); }, 405,
                  kLocked},
        ErrorCase{"inequivalent_arg_value",
                  [](VHost& v) {
                    return error_of(v.declare_queue(qd("q", {{"x-message-ttl", int32_t{2000}}})));
                  },
                  406,
                  "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost "
                  "'/': received '2000' but current is '1000'"},
        ErrorCase{"inequivalent_arg_missing",
                  [](VHost& v) { return error_of(v.declare_queue(qd("q"))); }, 406,
                  "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' for queue 'q' in vhost "
                  "'/': received none but current is the value '1000' of type 'signedint'"},
        ErrorCase{
            "inequivalent_durable",
            [](VHost& v) {
              return error_of(v.declare_queue(qd("q", {{"x-message-ttl", int32_t{1000}}}, true)));
            },
            406,
            "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'q' in vhost '/': "
            "received 'true' but current is 'false'"},
        ErrorCase{"inequivalent_exchange_type",
                  [](VHost& v) { return error_of(v.declare_exchange(xd("x", "fanout"))); }, 406,
                  "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'x' in vhost '/': "
                  "received 'fanout' but current is 'direct'"},
        ErrorCase{"queue_amq_prefix",
                  [](VHost& v) { return error_of(v.declare_queue(qd("amq.q"))); }, 403,
                  "ACCESS_REFUSED - queue name 'amq.q' contains reserved prefix 'amq.*'"},
        ErrorCase{"exchange_amq_prefix",
                  [](VHost& v) { return error_of(v.declare_exchange(xd("amq.x", "direct"))); }, 403,
                  "ACCESS_REFUSED - exchange name 'amq.x' contains reserved prefix 'amq.*'"},
        ErrorCase{"delete_system_exchange",
                  [](VHost& v) { return error_of(v.delete_exchange("amq.direct", false)); }, 403,
                  "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not "
                  "allowed"},
        ErrorCase{"bind_default_exchange",
                  [](VHost& v) { return error_of(v.bind_queue("q", "", "q", {}, 1)); }, 403,
                  "ACCESS_REFUSED - operation not permitted on the default exchange"},
        ErrorCase{"declare_default_exchange",
                  [](VHost& v) { return error_of(v.declare_exchange(xd("", "direct"))); }, 403,
                  "ACCESS_REFUSED - operation not permitted on the default exchange"},
        ErrorCase{"unknown_exchange_type",
                  [](VHost& v) { return error_of(v.declare_exchange(xd("y", "bogus"))); }, 503,
                  "COMMAND_INVALID - unknown exchange type 'bogus'"},
        ErrorCase{"delete_exchange_in_use",
                  [](VHost& v) { return error_of(v.delete_exchange("x", true)); }, 406,
                  "PRECONDITION_FAILED - exchange 'x' in vhost '/' in use"},
        ErrorCase{"delete_queue_not_empty",
                  [](VHost& v) { return error_of(v.delete_queue("full", false, true, 1)); }, 406,
                  "PRECONDITION_FAILED - queue 'full' in vhost '/' not empty"},
        ErrorCase{"invalid_max_priority",
                  [](VHost& v) {
                    return error_of(v.declare_queue(qd("p", {{"x-max-priority", int32_t{256}}})));
                  },
                  406,
                  "PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'p' in vhost '/': "
                  "{max_value_exceeded,256}"},
        ErrorCase{"quorum_non_durable",
                  [](VHost& v) {
                    return error_of(v.declare_queue(qd("qq", {{"x-queue-type", "quorum"}})));
                  },
                  406,
                  "PRECONDITION_FAILED - invalid property 'non-durable' for queue 'qq' in vhost "
                  "'/'"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace pulse::broker::testing
