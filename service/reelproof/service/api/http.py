"""The HTTP protocol under ``reelproof serve``: uvicorn's h11 protocol, whose answer to a request
it cannot parse (a 400 sent before the app ever sees the request) is problem+json like every
other error, instead of plain text."""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from reelproof.service.api.problems import PROBLEM_MEDIA_TYPE, TITLES, TYPE_BASE


class ProblemH11Protocol(H11Protocol):
    """``H11Protocol`` answering malformed HTTP with an RFC 9457 problem."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps(
            {
                "type": TYPE_BASE + "bad-http",
                "title": TITLES[400],
                "status": 400,
                "detail": f"{msg.rstrip('.')}: the request is not valid HTTP/1.1",
            }
        ).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()
