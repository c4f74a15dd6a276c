"""JSON bodies for the errors gunicorn answers itself, before Django sees the request.

A request line longer than ``limit_request_line`` (414), too many or too large headers (431),
a malformed request (400): gunicorn writes these with ``gunicorn.util.write_error``, an HTML page.
The API promises a JSON error body everywhere under /api/ (``config.middleware``), and at this
point the path is not known yet (a 414's request line was never read whole), so every such answer
becomes the API's error body, which a browser shows as readable text too:

    {"error": {"code": "uri_too_long", "message": "URI Too Long: ..."}}

``gunicorn.conf.py`` (read by gunicorn from the working directory) calls ``install`` in the master
process, before the workers are forked.
"""

from __future__ import annotations

import json
import socket

from gunicorn import util

#: gunicorn's status -> the API's stable error code
CODES = {
    400: "bad_request",
    403: "permission_denied",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "server_error",
    501: "not_implemented",
}


def json_error_response(status_int: int, reason: str, mesg: str) -> bytes:
    """The whole HTTP response gunicorn sends for an error, with the API's JSON error body."""
    code = CODES.get(status_int, "error")
    body = json.dumps({"error": {"code": code, "message": f"{reason}: {mesg}"}}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """``gunicorn.util.write_error`` with a JSON body instead of an HTML page."""
    util.write_nonblock(sock, json_error_response(status_int, reason, mesg))


def install() -> None:
    """Make gunicorn's own error answers JSON (workers call ``util.write_error`` at error time)."""
    util.write_error = write_json_error
