"""The agents' API's HTTP framing (dialer/agents/api.py `read_request`): pure, no socket."""

from __future__ import annotations

import asyncio

import pytest

from dialer.agents.api import MAX_BODY, HttpError, read_request


async def parse(raw: bytes):  # type: ignore[no-untyped-def]
    reader = asyncio.StreamReader()
    reader.feed_data(raw)
    reader.feed_eof()
    return await read_request(reader)


async def test_given_a_post_with_a_json_body_and_a_query_then_all_parts_are_read() -> None:
    body = b'{"contact_id": 12}'
    request = await parse(b"POST /agents/ann/call?campaign=desk HTTP/1.1\r\nAuthorization: Bearer t\r\n"
                          b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    assert (request.method, request.path, request.query) == ("POST", "/agents/ann/call", {"campaign": "desk"})
    assert request.headers["authorization"] == "Bearer t" and request.body == {"contact_id": 12}


@pytest.mark.parametrize("raw, status", [
    (b"garbage\r\n\r\n", 400),
    (b"POST /agents/ann/call HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]", 400),
    (b"POST /agents/ann/call HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}", 400),
    (b"POST /agents/ann/call HTTP/1.1\r\nContent-Length: " + str(MAX_BODY + 1).encode() + b"\r\n\r\n", 413),
])
async def test_given_a_malformed_request_then_a_typed_http_error(raw: bytes, status: int) -> None:
    with pytest.raises(HttpError) as error:
        await parse(raw)
    assert error.value.status == status
