"""Minimal raw-socket AMQP 0-9-1 client built on pika's codec (pika.spec /
pika.frame). Used for protocol-level tests pika's public API can't express
(AMQPLAIN, heartbeats, frames on unopened channels, ...)."""
import socket
import struct
import time

from pika import data, frame, spec

PROTOCOL_HEADER = b"AMQP\x00\x00\x09\x01"


def plain_response(user, password):
    return b"\x00" + user.encode() + b"\x00" + password.encode()


def amqplain_response(user, password):
    pieces = []
    data.encode_table(pieces, {"LOGIN": user, "PASSWORD": password})
    return b"".join(pieces)[4:]  # table without its 4-byte length prefix


class RawConnection:
    def __init__(self, host, port, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.start = None
        self.tune = None

    def send_raw(self, b):
        self.sock.sendall(b)

    def send_method(self, channel, method):
        self.sock.sendall(frame.Method(channel, method).marshal())

    def send_heartbeat(self):
        self.sock.sendall(frame.Heartbeat().marshal())

    def recv_frame(self, timeout=None):
        """Return the next frame (pika.frame.*), or None on EOF."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            if self.buf:
                consumed, fr = frame.decode_frame(self.buf)
                if fr is not None:
                    self.buf = self.buf[consumed:]
                    return fr
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk

    def recv_method(self, timeout=None, skip_heartbeats=True):
        while True:
            fr = self.recv_frame(timeout)
            if fr is None:
                return None
            if isinstance(fr, frame.Heartbeat) and skip_heartbeats:
                continue
            return fr

    def handshake(self, user="guest", password="guest", vhost="/", mechanism="PLAIN",
                  heartbeat=0, frame_max=None, channel_max=None, open_vhost=True):
        self.send_raw(PROTOCOL_HEADER)
        fr = self.recv_method()
        assert isinstance(fr.method, spec.Connection.Start), fr
        self.start = fr.method
        if mechanism == "PLAIN":
            resp = plain_response(user, password)
        elif mechanism == "AMQPLAIN":
            resp = amqplain_response(user, password)
        else:
            resp = b""
        self.send_method(0, spec.Connection.StartOk(
            client_properties={"product": "pulse-raw-test",
                               "capabilities": {"authentication_failure_close": True}},
            mechanism=mechanism, response=resp, locale="en_US"))
        fr = self.recv_method()
        if fr is None or not isinstance(fr.method, spec.Connection.Tune):
            return fr
        self.tune = fr.method
        if frame_max is None:
            frame_max = self.tune.frame_max
        if channel_max is None:
            channel_max = self.tune.channel_max
        self.send_method(0, spec.Connection.TuneOk(channel_max=channel_max, frame_max=frame_max,
                                                   heartbeat=heartbeat))
        if not open_vhost:
            return fr
        self.send_method(0, spec.Connection.Open(virtual_host=vhost))
        return self.recv_method()

    def wait_closed(self, timeout):
        """Read until EOF; return (frames_seen, seconds_elapsed)."""
        t0 = time.time()
        seen = []
        self.sock.settimeout(timeout)
        try:
            while True:
                fr = self.recv_frame()
                if fr is None:
                    break
                seen.append(fr)
        except socket.timeout:
            pass
        return seen, time.time() - t0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
