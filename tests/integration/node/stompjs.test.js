// @stomp/stompjs (the STOMP client browser pages use) under node, over a Web-STOMP endpoint, doing
// what a browser user does; amqplib on the same broker checks what crosses to and from AMQP.
// Node has no WebSocket of its own here: stompjs gets a `ws` WebSocket through webSocketFactory,
// with the STOMP sub-protocols stompjs asks for. Run with `node --test stompjs.test.js`.
//
//   PULSE_WS_URL         ws://HOST:PORT/ws, required
//   PULSE_AMQP_URL       amqp:// URL of the same broker and vhost (amqplib), required
//   PULSE_STOMP_LOGIN    STOMP login (default guest)
//   PULSE_STOMP_PASSCODE STOMP passcode (default guest)
//   PULSE_STOMP_HOST     vhost, sent as the CONNECT `host` header (default /)
//   PULSE_BROKER         pulsed (default) or rabbitmq: only where RabbitMQ is observed to differ
//   PULSE_WS_BINARY_FRAMES=1  the broker runs with web_stomp.ws_frame = binary: adds the test
//                        of arbitrary bytes reaching stompjs (run it alone, by name)
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Client, Versions } = require('@stomp/stompjs');
const WebSocket = require('ws');
const amqp = require('amqplib');

const WS_URL = process.env.PULSE_WS_URL;
const AMQP_URL = process.env.PULSE_AMQP_URL;
const LOGIN = process.env.PULSE_STOMP_LOGIN || 'guest';
const PASSCODE = process.env.PULSE_STOMP_PASSCODE || 'guest';
const VHOST = process.env.PULSE_STOMP_HOST || '/';
const BROKER = process.env.PULSE_BROKER || 'pulsed';
const BINARY_FRAMES = process.env.PULSE_WS_BINARY_FRAMES === '1';
if (!WS_URL || !AMQP_URL) {
  throw new Error('PULSE_WS_URL and PULSE_AMQP_URL must be set');
}

const TIMEOUT = 5000;
const uname = (prefix) => `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function deadline(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// A stompjs Client as a browser page makes one, on a `ws` WebSocket. `sockets` collects the
// WebSockets it opened, each with `binary`: per message from the broker, whether it came as a
// binary WebSocket message. `silent` drops the client's heart-beats (a single EOL) on the floor.
function makeClient(config = {}, opts = {}) {
  const sockets = [];
  const client = new Client({
    webSocketFactory: () => {
      const ws = new WebSocket(WS_URL, client.stompVersions.protocolVersions());
      ws.binary = [];
      ws.on('message', (data, isBinary) => ws.binary.push(isBinary));
      if (opts.silent) {
        const send = ws.send.bind(ws);
        ws.send = (data, ...rest) => (data === '\n' ? undefined : send(data, ...rest));
      }
      sockets.push(ws);
      return ws;
    },
    connectHeaders: { login: LOGIN, passcode: PASSCODE, host: VHOST },
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    reconnectDelay: 0, // a failed connection stays failed: the tests look at why
    debug: () => {},
    ...config,
  });
  client.sockets = sockets;
  return client;
}

// Activates a client and resolves with { client, frame } on CONNECTED; rejects on an ERROR frame
// or a close before it.
function connect(config = {}, opts = {}) {
  return new Promise((resolve, reject) => {
    const client = makeClient({
      ...config,
      onConnect: (frame) => resolve({ client, frame }),
      onStompError: (frame) => reject(new Error(`ERROR frame: ${frame.headers.message}`)),
      onWebSocketClose: (evt) => reject(new Error(`closed before CONNECTED: ${evt.code}`)),
    }, opts);
    client.activate();
  });
}

async function withStomp(fn, config = {}) {
  const { client, frame } = await deadline(connect(config), TIMEOUT, 'CONNECTED');
  try {
    return await fn(client, frame);
  } finally {
    await deadline(client.deactivate(), TIMEOUT, 'deactivate');
  }
}

async function withAmqp(fn) {
  const conn = await amqp.connect(AMQP_URL);
  conn.on('error', () => {});
  try {
    const ch = await conn.createChannel();
    return await fn(ch);
  } finally {
    try { await conn.close(); } catch (e) { /* already closed */ }
  }
}

// Messages of one subscription, in order; next() waits for the next one.
class Mailbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }

  push(m) {
    const w = this.waiters.shift();
    if (w) w(m); else this.items.push(m);
  }

  next(ms = TIMEOUT) {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return deadline(new Promise((r) => this.waiters.push(r)), ms, 'MESSAGE');
  }
}

// Resolves with the RECEIPT frame for `id`; watch before sending the frame that asks for it.
function receipt(client, id) {
  return deadline(new Promise((r) => client.watchForReceipt(id, r)), TIMEOUT, `RECEIPT ${id}`);
}

// Subscribes and waits for the broker's RECEIPT, so the subscription is in place.
async function subscribe(client, destination, headers = {}) {
  const box = new Mailbox();
  const id = uname('sub-receipt');
  const got = receipt(client, id);
  const sub = client.subscribe(destination, (m) => box.push(m), { ...headers, receipt: id });
  assert.equal((await got).headers['receipt-id'], id);
  return { sub, box };
}

async function publishWithReceipt(client, params) {
  const id = uname('send-receipt');
  const got = receipt(client, id);
  client.publish({ ...params, headers: { ...(params.headers || {}), receipt: id } });
  const frame = await got;
  assert.equal(frame.command, 'RECEIPT');
  assert.equal(frame.headers['receipt-id'], id);
  return frame;
}

// basic.get until a message is there (bounded): a STOMP SEND is routed after its RECEIPT at
// the latest, but a get right after must not race a broker that routes asynchronously.
async function getOne(ch, queue) {
  for (let i = 0; i < 50; i++) {
    const m = await ch.get(queue, { noAck: true });
    if (m) return m;
    await sleep(100);
  }
  throw new Error(`no message in ${queue}`);
}

function envelope(exchange, routingKey) {
  return {
    payload: { taskId: 'fN1SbArXTPSVFNUvaOlinQ', state: 'completed', runs: [{ runId: 0 }] },
    _meta: { exchange, routing_key: routingKey, serializer: 'json', sent: new Date().toISOString() },
  };
}

test('connect with login, passcode and host: STOMP 1.2 over the v12.stomp sub-protocol', async () => {
  await withStomp(async (client, frame) => {
    assert.equal(frame.command, 'CONNECTED');
    assert.equal(frame.headers.version, '1.2');
    assert.equal(client.connectedVersion, '1.2');
    assert.equal(client.connected, true);
    assert.equal(frame.headers['heart-beat'], '0,0');
    assert.match(frame.headers.session, /^session-[A-Za-z0-9_-]+$/);
    // product/version: RabbitMQ/3.10.8 from RabbitMQ, Pulse/0.1.0 from pulsed (its own name,
    // as in its AMQP server properties).
    assert.match(frame.headers.server, /^[A-Za-z]+\/\d+\.\d+\.\d+$/);
    assert.deepEqual(client.stompVersions.protocolVersions(),
                     new Versions(['1.2', '1.1', '1.0']).protocolVersions());
    assert.equal(client.sockets.length, 1);
    assert.equal(client.sockets[0].protocol, 'v12.stomp');
  });
});

test('heart-beats are negotiated and flow both ways', async () => {
  let received = 0;
  let lost = 0;
  // The client sends every 1000 ms and wants to hear from the broker every 2500 ms. The broker
  // answers "it sends, it wants" in whole seconds, rounded down as RabbitMQ does.
  await withStomp(async (client, frame) => {
    assert.equal(frame.headers['heart-beat'], '2000,1000');
    // stompjs counts every EOL as a heart-beat, the one after CONNECTED's NUL too: count from
    // here, where nothing but heart-beats comes.
    received = 0;
    await sleep(4500);
    assert.ok(received >= 1, `heart-beats from the broker in 4.5 s: ${received}`);
    assert.equal(lost, 0);
    assert.equal(client.connected, true);
    // The broker kept the connection: it heard the client's heart-beats.
    const q = uname('hb');
    const { box } = await subscribe(client, `/queue/${q}`);
    client.publish({ destination: `/queue/${q}`, body: 'still here' });
    assert.equal((await box.next()).body, 'still here');
    await withAmqp((ch) => ch.deleteQueue(q));
  }, {
    heartbeatOutgoing: 1000,
    heartbeatIncoming: 2500,
    onHeartbeatReceived: () => { received++; },
    onHeartbeatLost: () => { lost++; },
  });
});

test('a client that promised heart-beats and went silent is closed by the broker', async () => {
  const { client, frame } = await deadline(connect({ heartbeatOutgoing: 1000 }, { silent: true }),
                                           TIMEOUT, 'CONNECTED');
  try {
    assert.equal(frame.headers['heart-beat'], '0,1000');
    const closed = new Promise((r) => { client.onWebSocketClose = r; });
    await deadline(closed, 10000, 'the broker closing a silent client');
    assert.equal(client.connected, false);
  } finally {
    await client.deactivate({ force: true });
  }
});

test('subscribe to /exchange/amq.topic/<pattern>: an amqplib-published Pulse envelope arrives intact', async () => {
  const prefix = uname('stompjs').replace('-', '_');
  await withStomp(async (client) => {
    const { sub, box } = await subscribe(client, `/exchange/amq.topic/${prefix}.*.completed`);
    const rk = `${prefix}.task.completed`;
    const body = envelope('amq.topic', rk);
    await withAmqp(async (ch) => {
      // Not matching the pattern, published first: had it been delivered it would come first.
      ch.publish('amq.topic', `${prefix}.task.running`, Buffer.from('{"no":1}'));
      ch.publish('amq.topic', rk, Buffer.from(JSON.stringify(body)), {
        contentType: 'application/json', contentEncoding: 'utf-8', persistent: true,
        messageId: 'm-1', correlationId: 'c-1', headers: { 'x-pulse': 'yes', n: 7, big: 100000, ok: true },
      });
      const m = await box.next();
      assert.equal(m.command, 'MESSAGE');
      assert.deepEqual(JSON.parse(m.body), body);
      const h = m.headers;
      assert.equal(h.subscription, sub.id);
      // Deliveries from amq.topic name their destination /topic/<key>, as RabbitMQ does.
      assert.equal(h.destination, `/topic/${rk}`);
      assert.equal(h['content-type'], 'application/json');
      assert.equal(h['content-encoding'], 'utf-8');
      assert.equal(h['content-length'], String(Buffer.byteLength(JSON.stringify(body))));
      assert.equal(h['amqp-message-id'], 'm-1');
      assert.equal(h['correlation-id'], 'c-1');
      assert.equal(h.persistent, 'true');
      assert.equal(h.redelivered, 'false');
      assert.equal(h['x-pulse'], 'yes');
      // RabbitMQ's STOMP mapping carries string and integer headers as text and leaves others
      // out: amqplib sends 7 as a byte ('b') field and true as a boolean, both dropped, while
      // 100000 goes as an int ('I').
      assert.equal(h.big, '100000');
      assert.equal(h.n, undefined);
      assert.equal(h.ok, undefined);
      assert.ok(h['message-id'], 'message-id header');
      assert.equal(h.ack, undefined); // auto ack: nothing to acknowledge
      // The next one matches again; nothing came between.
      ch.publish('amq.topic', `${prefix}.other.completed`, Buffer.from('2'));
      const m2 = await box.next();
      assert.equal(m2.body, '2');
      assert.equal(m2.headers.destination, `/topic/${prefix}.other.completed`);
    });
  });
});

test('stompjs publishes to /exchange/amq.topic/<key>: amqplib receives body and properties', async () => {
  const rk = uname('stompjs').replace('-', '_') + '.task.completed';
  const body = envelope('amq.topic', rk);
  const text = JSON.stringify(body);
  await withAmqp(async (ch) => {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'amq.topic', rk);
    await withStomp(async (client) => {
      await publishWithReceipt(client, {
        destination: `/exchange/amq.topic/${rk}`,
        body: text,
        headers: {
          'content-type': 'application/json', persistent: 'true', 'correlation-id': 'c-2',
          'amqp-message-id': 'm-2', 'reply-to': '/queue/replies',
          // 1.2 header escaping: stompjs escapes, the broker must unescape.
          'x-note': 'a:b\nc\\d',
        },
      });
    });
    const m = await getOne(ch, queue);
    assert.deepEqual(JSON.parse(m.content.toString()), body);
    assert.equal(m.fields.exchange, 'amq.topic');
    assert.equal(m.fields.routingKey, rk);
    const p = m.properties;
    assert.equal(p.contentType, 'application/json');
    assert.equal(p.deliveryMode, 2);
    assert.equal(p.correlationId, 'c-2');
    assert.equal(p.messageId, 'm-2');
    assert.equal(p.replyTo, '/queue/replies');
    assert.equal(p.headers['x-note'], 'a:b\nc\\d');
    assert.equal(p.headers['content-length'], String(Buffer.byteLength(text)));
  });
});

test('/queue/<name>: amqplib to stompjs and stompjs to stompjs and to amqplib', async () => {
  const q = uname('stompjs-q');
  const q2 = uname('stompjs-q2');
  await withAmqp(async (ch) => {
    try {
      await withStomp(async (client) => {
        const { sub, box } = await subscribe(client, `/queue/${q}`);
        ch.sendToQueue(q, Buffer.from('hello from amqp'), { contentType: 'text/plain' });
        let m = await box.next();
        assert.equal(m.body, 'hello from amqp');
        assert.equal(m.headers.destination, `/queue/${q}`);
        assert.equal(m.headers.subscription, sub.id);
        assert.equal(m.headers['content-type'], 'text/plain');

        const text = 'café ☃ ünïcode';
        client.publish({ destination: `/queue/${q}`, body: text,
                         headers: { 'content-type': 'text/plain;charset=utf-8' } });
        m = await box.next();
        assert.equal(m.body, text);
        assert.equal(m.headers['content-length'], String(Buffer.byteLength(text)));
        assert.equal(m.headers['content-type'], 'text/plain;charset=utf-8');

        await publishWithReceipt(client, { destination: `/queue/${q2}`, body: 'to amqp' });
      });
      const ok = await ch.checkQueue(q2);
      assert.equal(ok.messageCount, 1);
      const m = await getOne(ch, q2);
      assert.equal(m.content.toString(), 'to amqp');
      assert.equal(m.fields.exchange, '');
      assert.equal(m.fields.routingKey, q2);
    } finally {
      await ch.deleteQueue(q);
      await ch.deleteQueue(q2);
    }
  });
});

test('client-individual ack and nack', async () => {
  const q = uname('stompjs-ack');
  await withAmqp(async (ch) => {
    await ch.assertQueue(q, { durable: true });
    try {
      for (const b of ['a', 'b', 'c']) ch.sendToQueue(q, Buffer.from(b));
      await withStomp(async (client) => {
        const { box } = await subscribe(client, `/amq/queue/${q}`,
                                        { ack: 'client-individual', 'prefetch-count': '10' });
        const [a, b, c] = [await box.next(), await box.next(), await box.next()];
        assert.deepEqual([a.body, b.body, c.body], ['a', 'b', 'c']);
        assert.equal(b.headers.redelivered, 'false');
        // STOMP 1.2: stompjs acknowledges with the ack header's id.
        for (const m of [a, b, c]) assert.ok(m.headers.ack, 'ack header');
        assert.equal(new Set([a, b, c].map((m) => m.headers.ack)).size, 3);
        a.ack();
        b.nack(); // requeued: it comes again
        const b2 = await box.next();
        assert.equal(b2.body, 'b');
        assert.equal(b2.headers.redelivered, 'true');
        b2.nack({ requeue: 'false' }); // dropped this time
        // c stays unacknowledged: a receipt on one more frame orders the acks before the close.
        const id = uname('ack-receipt');
        const got = receipt(client, id);
        client.publish({ destination: `/queue/${uname('stompjs-none')}`, headers: { receipt: id },
                         body: '' });
        await got;
      });
      // The session ended with c unacknowledged: back in the queue, redelivered; a and b gone.
      for (let i = 0; i < 50 && (await ch.checkQueue(q)).messageCount !== 1; i++) await sleep(100);
      assert.equal((await ch.checkQueue(q)).messageCount, 1);
      const m = await getOne(ch, q);
      assert.equal(m.content.toString(), 'c');
      assert.equal(m.fields.redelivered, true);
    } finally {
      await ch.deleteQueue(q);
    }
  });
});

test('receipts: watchForReceipt on SEND, SUBSCRIBE and UNSUBSCRIBE', async () => {
  const q = uname('stompjs-rcpt');
  await withAmqp(async (ch) => {
    try {
      await withStomp(async (client) => {
        const { sub, box } = await subscribe(client, `/queue/${q}`);
        await publishWithReceipt(client, { destination: `/queue/${q}`, body: 'one' });
        assert.equal((await box.next()).body, 'one');
        const id = uname('unsub-receipt');
        const got = receipt(client, id);
        sub.unsubscribe({ receipt: id });
        assert.equal((await got).headers['receipt-id'], id);
        // No consumer now: a message sent next stays in the queue.
        await publishWithReceipt(client, { destination: `/queue/${q}`, body: 'two' });
      });
      const m = await getOne(ch, q);
      assert.equal(m.content.toString(), 'two');
    } finally {
      await ch.deleteQueue(q);
    }
  });
});

test('binary bodies with content-length, NULs included, both ways', async () => {
  const q = uname('stompjs-bin');
  const q2 = uname('stompjs-bin2');
  const bytes = Uint8Array.from({ length: 512 }, (_, i) => i % 256); // every byte value
  // What the broker sends as a WebSocket text message must be UTF-8: NULs and control
  // characters, yes, stray continuation bytes no (those need web_stomp.ws_frame = binary).
  const textSafe = Buffer.concat([Buffer.from([0, 1, 0, 10, 13, 0x7f]), Buffer.from('é☃\0end')]);
  await withAmqp(async (ch) => {
    try {
      await withStomp(async (client) => {
        await publishWithReceipt(client, {
          destination: `/queue/${q}`, binaryBody: bytes,
          headers: { 'content-type': 'application/octet-stream' },
        });
        const m = await getOne(ch, q);
        assert.ok(m.content.equals(Buffer.from(bytes)), 'stompjs binary body reached amqplib');
        assert.equal(m.properties.contentType, 'application/octet-stream');
        assert.equal(m.properties.headers['content-length'], '512');

        const { box } = await subscribe(client, `/queue/${q2}`);
        ch.sendToQueue(q2, textSafe, { contentType: 'application/octet-stream' });
        const got = await box.next();
        assert.equal(got.headers['content-length'], String(textSafe.length));
        assert.ok(Buffer.from(got.binaryBody).equals(textSafe), 'amqplib body reached stompjs');

        // stompjs to stompjs, the same bytes: a binary WebSocket message in, a MESSAGE back.
        client.publish({ destination: `/queue/${q2}`, binaryBody: new Uint8Array(textSafe) });
        const again = await box.next();
        assert.ok(Buffer.from(again.binaryBody).equals(textSafe));
        // web_stomp.ws_frame defaults to text: every frame came as a text message.
        assert.ok(client.sockets[0].binary.length >= 4);
        assert.deepEqual(new Set(client.sockets[0].binary), new Set([false]));
      });
    } finally {
      await ch.deleteQueue(q);
      await ch.deleteQueue(q2);
    }
  });
});

test('a bad login gets an ERROR frame stompjs reports through onStompError', async () => {
  const events = [];
  let gotError;
  const error = new Promise((r) => { gotError = r; });
  let closeEvent = null;
  const client = makeClient({
    connectHeaders: { login: LOGIN, passcode: 'not-the-passcode', host: VHOST },
    onConnect: () => events.push('CONNECTED'),
    onStompError: (frame) => { events.push(frame.command); gotError(frame); },
    onWebSocketClose: (evt) => { closeEvent = evt; },
  });
  client.activate();
  try {
    const f = await deadline(error, TIMEOUT, 'ERROR after a bad login');
    assert.equal(f.command, 'ERROR');
    assert.equal(f.headers.message, 'Bad CONNECT');
    assert.equal(f.headers['content-type'], 'text/plain');
    assert.equal(f.body, `Access refused for user '${LOGIN}'\n`);
    assert.deepEqual(events, ['ERROR']);
    assert.equal(client.connected, false);
  } finally {
    await deadline(client.deactivate(), TIMEOUT, 'deactivate');
  }
  // Both brokers leave the WebSocket open after this ERROR; the page's deactivate() closes it
  // (a close frame without a status code). RabbitMQ (cowboy) echoes an empty close, which the
  // client sees as 1005; pulsed (Boost.Beast, which answers an empty close with 1000) sends 1000.
  assert.ok(closeEvent, 'WebSocket closed');
  assert.equal(closeEvent.code, BROKER === 'rabbitmq' ? 1005 : 1000);
});

test('an unknown vhost gets an ERROR frame', async () => {
  const host = uname('no-such-vhost');
  let gotError;
  const error = new Promise((r) => { gotError = r; });
  const client = makeClient({
    connectHeaders: { login: LOGIN, passcode: PASSCODE, host },
    onStompError: (frame) => gotError(frame),
  });
  client.activate();
  try {
    const f = await deadline(error, TIMEOUT, 'ERROR after an unknown vhost');
    assert.equal(f.headers.message, 'Bad CONNECT');
    assert.equal(f.body, `Virtual host '${host}' access denied`);
    assert.equal(client.connected, false);
  } finally {
    await deadline(client.deactivate(), TIMEOUT, 'deactivate');
  }
});

test('disconnect: deactivate sends DISCONNECT and the WebSocket closes cleanly', async () => {
  const q = uname('stompjs-bye');
  let disconnected = null;
  let closeEvent = null;
  const { client } = await deadline(connect({
    onDisconnect: (frame) => { disconnected = frame; },
  }), TIMEOUT, 'CONNECTED');
  client.onWebSocketClose = (evt) => { closeEvent = evt; };
  await withAmqp(async (ch) => {
    try {
      await subscribe(client, `/queue/${q}`);
      await deadline(client.deactivate(), TIMEOUT, 'deactivate');
      assert.equal(client.connected, false);
      assert.equal(client.active, false);
      assert.ok(closeEvent, 'WebSocket close event');
      assert.equal(closeEvent.code, 1000);
      if (BROKER === 'rabbitmq') {
        // RabbitMQ 3.10 closes the WebSocket before the DISCONNECT's RECEIPT leaves, so
        // stompjs never calls onDisconnect (see test_web_stomp.py).
        assert.equal(disconnected, null);
      } else {
        assert.ok(disconnected, 'onDisconnect called with the RECEIPT');
        assert.equal(disconnected.command, 'RECEIPT');
        assert.match(disconnected.headers['receipt-id'], /^close-\d+$/);
      }
      // The subscription went with the session: a message now stays in the queue.
      for (let i = 0; i < 50 && (await ch.checkQueue(q)).consumerCount !== 0; i++) await sleep(100);
      assert.equal((await ch.checkQueue(q)).consumerCount, 0);
      ch.sendToQueue(q, Buffer.from('after'));
      assert.equal((await getOne(ch, q)).content.toString(), 'after');
    } finally {
      await ch.deleteQueue(q);
    }
  });
});

if (BINARY_FRAMES) {
  test('web_stomp.ws_frame = binary: any bytes reach stompjs in binary messages', async () => {
    const q = uname('stompjs-binframes');
    const bytes = Buffer.from(Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    await withAmqp(async (ch) => {
      try {
        await withStomp(async (client) => {
          const { box } = await subscribe(client, `/queue/${q}`);
          ch.sendToQueue(q, bytes, { contentType: 'application/octet-stream' });
          const m = await box.next();
          assert.equal(m.headers['content-length'], '512');
          assert.ok(Buffer.from(m.binaryBody).equals(bytes), 'every byte value arrived');
          assert.deepEqual(new Set(client.sockets[0].binary), new Set([true]));
        });
      } finally {
        await ch.deleteQueue(q);
      }
    });
  });
}
