"""A socket that plays back a script, shared by the tests of the Redis wire code and redis_snapshot."""
from __future__ import annotations


class FakeSocket:
    """Plays back `incoming` at most `chunk` bytes per recv and records what was sent."""

    def __init__(self, incoming: bytes, chunk: int = 65536, then=b''):
        self.incoming = bytearray(incoming)
        self.chunk = chunk
        self.then = then  # what recv does once the script is used up: b'' (closed) or an exception
        self.sent = bytearray()
        self.closed = False

    def recv(self, size):
        if not self.incoming:
            if isinstance(self.then, BaseException):
                raise self.then
            return self.then
        data = bytes(self.incoming[:min(size, self.chunk)])
        del self.incoming[:len(data)]
        return data

    def sendall(self, data):
        self.sent += data

    def close(self):
        self.closed = True
