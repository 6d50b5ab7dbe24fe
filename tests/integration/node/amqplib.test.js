// amqplib (the Node.js AMQP 0-9-1 client Taskcluster's pulse library uses)
// against the broker. Run with `node --test` from this directory.
//
//   PULSE_AMQP_URL          broker URL (guest on '/'), required
//   PULSE_AMQP_BLOCKED_URL  optional: a broker in a resource alarm (every
//                           publishing connection gets connection.blocked)
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const amqp = require('amqplib');

const URL = process.env.PULSE_AMQP_URL;
const BLOCKED_URL = process.env.PULSE_AMQP_BLOCKED_URL;
if (!URL) {
  throw new Error('PULSE_AMQP_URL is not set');
}

const uname = (prefix) => `${prefix}.${crypto.randomBytes(5).toString('hex')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolve with the next n messages from a consumer, or reject after ms.
function collect(ch, queue, n, opts = {}, ms = 5000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`timeout: got ${got.length}/${n} messages`)), ms);
    ch.consume(queue, (msg) => {
      got.push(msg);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    }, opts).catch(reject);
  });
}

async function withConnection(fn, url = URL) {
  const conn = await amqp.connect(url);
  conn.on('error', () => {});
  try {
    return await fn(conn);
  } finally {
    try { await conn.close(); } catch (e) { /* already closed */ }
  }
}

test('connect and negotiate', async () => {
  await withConnection(async (conn) => {
    const props = conn.connection.serverProperties;
    assert.ok(props.capabilities, 'server capabilities advertised');
    for (const cap of ['publisher_confirms', 'basic.nack', 'consumer_cancel_notify',
                       'connection.blocked', 'exchange_exchange_bindings', 'per_consumer_qos']) {
      assert.equal(props.capabilities[cap], true, cap);
    }
    assert.ok(conn.connection.frameMax >= 4096);
    assert.ok(conn.connection.channelMax > 0);
  });
});

test('assert exchange and queue, publish, consume, ack', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel();
    const ex = uname('exchange/node/test');
    const q = uname('queue/node/app');
    await ch.assertExchange(ex, 'topic', { durable: true });
    const qok = await ch.assertQueue(q, { durable: true, autoDelete: false });
    assert.equal(qok.queue, q);
    assert.equal(qok.messageCount, 0);
    assert.equal(qok.consumerCount, 0);
    await ch.bindQueue(q, ex, 'build.#');
    await ch.bindQueue(q, ex, 'heartbeat');

    const body = { payload: { n: 1 }, _meta: { exchange: ex, routing_key: 'build.x.finished',
                                              serializer: 'json', sent: new Date().toISOString() } };
    assert.equal(ch.publish(ex, 'build.x.finished', Buffer.from(JSON.stringify(body)),
                            { contentType: 'application/json', persistent: true,
                              headers: { 'x-n': 7 }, messageId: 'm1' }), true);
    ch.publish(ex, 'unrelated', Buffer.from('{}'));
    ch.publish(ex, 'heartbeat', Buffer.from('{"hb":true}'), { contentType: 'application/json' });

    const msgs = await collect(ch, q, 2);
    assert.deepEqual(JSON.parse(msgs[0].content.toString()), body);
    assert.equal(msgs[0].fields.routingKey, 'build.x.finished');
    assert.equal(msgs[0].fields.exchange, ex);
    assert.equal(msgs[0].fields.redelivered, false);
    assert.equal(msgs[0].properties.contentType, 'application/json');
    assert.equal(msgs[0].properties.deliveryMode, 2);
    assert.equal(msgs[0].properties.messageId, 'm1');
    assert.equal(msgs[0].properties.headers['x-n'], 7);
    assert.equal(msgs[1].fields.routingKey, 'heartbeat');
    for (const m of msgs) ch.ack(m);

    const check = await ch.checkQueue(q);
    assert.equal(check.messageCount, 0);
    assert.equal(check.consumerCount, 1);
    await ch.close();

    const ch2 = await conn.createChannel();
    const del = await ch2.deleteQueue(q);
    assert.equal(del.messageCount, 0);
    await ch2.deleteExchange(ex);
  });
});

test('nack with requeue and channel close both redeliver', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    assert.match(queue, /^amq\.gen-/);
    ch.sendToQueue(queue, Buffer.from('again'));
    const [first] = await collect(ch, queue, 1);
    assert.equal(first.fields.redelivered, false); // not acked
    const ch2 = await conn.createChannel();
    const got = [];
    const { consumerTag } = await ch2.consume(queue, (m) => got.push(m));
    await ch.close(); // unacked delivery goes back to the queue
    await sleep(200);
    assert.equal(got.length, 1);
    assert.equal(got[0].content.toString(), 'again');
    assert.equal(got[0].fields.redelivered, true);
    await ch2.cancel(consumerTag);
    ch2.nack(got[0], false, true);
    await sleep(100);
    const m = await ch2.get(queue, { noAck: true });
    assert.equal(m.content.toString(), 'again');
    assert.equal(m.fields.redelivered, true);
    assert.equal(await ch2.get(queue), false);
  });
});

test('confirm channel with waitForConfirms', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const acks = [];
    for (let i = 0; i < 50; i++) {
      ch.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true },
                     (err) => acks.push(err));
    }
    // unroutable (mandatory=false) messages are confirmed too
    ch.publish('amq.direct', 'nobody-bound-here', Buffer.from('x'), {}, (err) => acks.push(err));
    await ch.waitForConfirms();
    assert.equal(acks.length, 51);
    assert.ok(acks.every((e) => e === null || e === undefined), 'all acked');
    const q = await ch.checkQueue(queue);
    assert.equal(q.messageCount, 50);
  });
});

test('confirm channel: publishing to a missing exchange fails the channel', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createConfirmChannel();
    const closed = new Promise((resolve) => ch.on('error', resolve));
    ch.publish('node.no.such.exchange', 'k', Buffer.from('x'), {}, () => {});
    const err = await closed;
    assert.equal(err.code, 404);
    assert.match(err.message, /NOT_FOUND - no exchange 'node\.no\.such\.exchange' in vhost '\/'/);
    // the connection is fine
    const ch2 = await conn.createChannel();
    await ch2.checkExchange('amq.topic');
  });
});

test('prefetch limits unacked deliveries', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (let i = 0; i < 5; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.prefetch(2);
    const got = [];
    await ch.consume(queue, (m) => got.push(m));
    await sleep(300);
    assert.equal(got.length, 2, 'only prefetch-count messages in flight');
    ch.ack(got[0]);
    await sleep(300);
    assert.equal(got.length, 3);
    ch.ack(got[2], true); // multiple: acks 1 and 2 as well
    await sleep(300);
    assert.equal(got.length, 5);
    ch.ackAll();
    assert.deepEqual(got.map((m) => m.content.toString()), ['0', '1', '2', '3', '4']);
    const c = await ch.checkQueue(queue);
    assert.equal(c.messageCount, 0);
  });
});

test('channel error codes: 404 on passive declare, 406 on inequivalent redeclare', async () => {
  await withConnection(async (conn) => {
    const ch = await conn.createChannel();
    let closedEvent = false;
    ch.on('error', () => {});
    ch.on('close', () => { closedEvent = true; });
    await assert.rejects(ch.checkExchange('exchange/node/missing'), (err) => {
      assert.equal(err.code, 404);
      assert.match(err.message, /NOT_FOUND - no exchange 'exchange\/node\/missing' in vhost '\/'/);
      return true;
    });
    await sleep(50);
    assert.equal(closedEvent, true);

    const ch2 = await conn.createChannel();
    ch2.on('error', () => {});
    await assert.rejects(ch2.checkQueue('queue/node/missing'), (err) => {
      assert.equal(err.code, 404);
      assert.match(err.message, /NOT_FOUND - no queue 'queue\/node\/missing' in vhost '\/'/);
      return true;
    });

    const ch3 = await conn.createChannel();
    ch3.on('error', () => {});
    const q = uname('node.q');
    await ch3.assertQueue(q, { durable: false, autoDelete: true });
    await assert.rejects(ch3.assertQueue(q, { durable: true }), (err) => {
      assert.equal(err.code, 406);
      assert.match(err.message, /PRECONDITION_FAILED - inequivalent arg 'durable' for queue/);
      return true;
    });
    const ch4 = await conn.createChannel();
    await ch4.deleteQueue(q);
  });
});

test('wrong password is refused', async () => {
  const bad = URL.replace(/\/\/[^@]*@/, '//guest:wrong-password@');
  await assert.rejects(amqp.connect(bad), (err) => {
    assert.match(String(err.message), /ACCESS_REFUSED|403/);
    return true;
  });
});

test('connection.blocked when the broker is in a resource alarm', { skip: !BLOCKED_URL && 'PULSE_AMQP_BLOCKED_URL not set' }, async () => {
  // heartbeat=0: no heartbeat timer outlives the socket we destroy at the end
  const conn = await amqp.connect(BLOCKED_URL + (BLOCKED_URL.includes('?') ? '&' : '?') + 'heartbeat=0');
  conn.on('error', () => {});
  try {
    const blocked = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 5000);
      conn.on('blocked', (reason) => { clearTimeout(timer); resolve(reason); });
    });
    const ch = await conn.createChannel();
    // a blocked connection can still declare (RabbitMQ blocks only on publish)
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('x'));
    const reason = await blocked;
    assert.ok(reason !== null, 'no connection.blocked within 5 s of publishing');
    assert.match(String(reason), /low on (memory|disk)/);
  } finally {
    // RabbitMQ stops reading from a blocked connection, so connection.close
    // would never be answered: drop the socket instead (with an error, so that
    // amqplib tears the connection down and no timer keeps node alive).
    conn.connection.stream.destroy(new Error('blocked test done'));
  }
});
