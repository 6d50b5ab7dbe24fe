def test_smoke(ch, uname):
    q = uname("smoke")
    ch.queue_declare(q, exclusive=True)
    ch.basic_publish("", q, b"hi")
    m, p, body = ch.basic_get(q, auto_ack=True)
    assert body == b"hi"
