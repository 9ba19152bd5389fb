"""bench_live's voters' process (benchmarks/live_voters.py) sends, byte for byte, the vote
``httpx`` sends with a client of the voter's token (the voters' threads until the seventh
round), and reads its answers as ``httpx`` does."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import live_voters

ANSWER = b'{"value":1}'
URL = "/api/v1/alliances/a1/deliberations/d1/votes"


def _one_request(listener: socket.socket, received: list[bytes], answer: bytes) -> None:
    """Accept one connection, read one request (head and Content-Length body), answer it."""
    connection, _ = listener.accept()
    with connection:
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += connection.recv(65536)
        received.append(head + b"\r\n\r\n" + body)
        connection.sendall(answer)


def _captured(send: Callable[[str], None], answer: bytes) -> bytes:
    """The request ``send`` made to a server at the base URL it was given, its port
    written ``PORT``."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        received: list[bytes] = []
        server = threading.Thread(target=_one_request, args=(listener, received, answer))
        server.start()
        port = listener.getsockname()[1]
        send(f"http://127.0.0.1:{port}")
        server.join(timeout=10)
    [request] = received
    return request.replace(b"Host: 127.0.0.1:%d\r\n" % port, b"Host: 127.0.0.1:PORT\r\n")


def _ok(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\ncontent-type: application/json\r\n\r\n"
        % (len(body))
        + body
    )


@pytest.mark.parametrize("value", [-1, 0, 1])
def test_a_vote_is_the_request_httpx_sends(value: int) -> None:
    token = "tok_Abc-123_xyz"
    vote = {"statement_id": "st_Q9-z", "value": value}

    def by_httpx(base: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, timeout=30.0, headers=headers) as client:
            assert client.post(URL, json=vote).status_code == 200

    def by_the_voters_process(base: str) -> None:
        [head] = live_voters.heads_of(base, URL, [token])
        request = head.request(live_voters._body(vote["statement_id"], value), None)

        async def send() -> live_voters.Answer:
            reader, writer = await asyncio.open_connection(*base[7:].split(":"))
            writer.write(request)
            answered = await live_voters._answer(reader)
            writer.close()
            return answered

        assert asyncio.run(send()) == live_voters.Answer(200, ANSWER, True)

    sent_by_httpx = _captured(by_httpx, _ok(ANSWER))
    sent_by_voters = _captured(by_the_voters_process, _ok(ANSWER))
    assert b"Host: 127.0.0.1:PORT\r\n" in sent_by_httpx
    assert sent_by_voters == sent_by_httpx


def test_a_timeline_id_is_the_only_header_added() -> None:
    [head] = live_voters.heads_of("http://127.0.0.1:8000", URL, ["t"])
    body = live_voters._body("s", 1)
    plain, timed = head.request(body, None), head.request(body, "3-1.5")
    assert timed.replace(b"X-Vote-Timeline: 3-1.5\r\n", b"") == plain


def test_answers_are_read_by_length_or_chunks_and_keep_alive_as_told() -> None:
    async def read(raw: bytes) -> live_voters.Answer:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await live_voters._answer(reader)

    chunked = b"HTTP/1.1 422 X\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    chunked += b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert asyncio.run(read(chunked)) == live_voters.Answer(422, b"abcde", False)
    assert asyncio.run(read(_ok(b"{}"))) == live_voters.Answer(200, b"{}", True)
