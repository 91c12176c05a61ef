"""A misbehaving carrier on UDP: the fault injector for far ends that never answer or answer with
garbage. The last digit of the dialled number chooses the misbehaviour (see BEHAVIOURS). It speaks
just enough SIP to be wrong in a controlled way: no dialogs, no retransmission timers of its own."""

from __future__ import annotations

import asyncio
import re

# Last digit -> what the far end does with an INVITE.
BEHAVIOURS = {
    "1": "ring_forever",       # 100 + 180 Ringing, then nothing: only the dialler's ring timeout ends it
    "2": "silent",             # never a byte back (a black hole, a dead SBC)
    "3": "garbage",            # random binary junk in reply to every request
    "4": "bad_sdp",            # 200 OK whose SDP is not SDP
    "5": "no_common_codec",    # 200 OK offering only a codec the trunk does not allow
    "6": "bogus_status",       # "SIP/2.0 999 Whatever": a status code outside the grammar
}

_GARBAGE = bytes(range(256)) * 2


class BadCarrier(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.invites: dict[str, int] = {}       # behaviour -> INVITEs received (with retransmissions)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        text = data.decode("utf-8", errors="replace")
        first = text.split("\r\n", 1)[0]
        method = first.split(" ", 1)[0]
        if method == "INVITE":
            number = re.search(r"sip:\+?(\d+)@", first)
            behaviour = BEHAVIOURS.get(number.group(1)[-1] if number else "", "silent")
            self.invites[behaviour] = self.invites.get(behaviour, 0) + 1
            self._invite(behaviour, text, addr)
        elif method in ("CANCEL", "BYE"):
            self._reply(text, addr, "200 OK")
            if method == "CANCEL":
                self._reply(text, addr, "487 Request Terminated", cseq_method="INVITE")
        # ACKs and anything else: ignored, as a careless far end would.

    def _invite(self, behaviour: str, text: str, addr: tuple[str, int]) -> None:
        if behaviour == "silent":
            return
        if behaviour == "garbage":
            self._send(_GARBAGE, addr)
            return
        if behaviour == "bogus_status":
            self._reply(text, addr, "999 Whatever")
            return
        self._reply(text, addr, "100 Trying")
        if behaviour == "ring_forever":
            self._reply(text, addr, "180 Ringing")
        elif behaviour == "bad_sdp":
            self._reply(text, addr, "200 OK", body="this is not = an SDP\r\nm=audio banana\r\n")
        elif behaviour == "no_common_codec":
            self._reply(text, addr, "200 OK", body=(
                "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                "m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"))

    def _reply(self, request: str, addr: tuple[str, int], status: str, *, body: str = "",
               cseq_method: str | None = None) -> None:
        headers = {}
        for line in request.split("\r\n")[1:]:
            if not line:
                break
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        via = "".join(f"Via: {v}\r\n" for v in headers.get("via", []))
        to = headers.get("to", [""])[0]
        if ";tag=" not in to:
            to += ";tag=badcarrier"
        cseq = headers.get("cseq", ["1 INVITE"])[0]
        if cseq_method:
            cseq = f"{cseq.split()[0]} {cseq_method}"
        content = f"Content-Type: application/sdp\r\n" if body else ""
        message = (f"SIP/2.0 {status}\r\n{via}From: {headers.get('from', [''])[0]}\r\nTo: {to}\r\n"
                   f"Call-ID: {headers.get('call-id', [''])[0]}\r\nCSeq: {cseq}\r\n"
                   f"Contact: <sip:carrier@{addr[0]}:{self._port()}>\r\n{content}"
                   f"Content-Length: {len(body.encode())}\r\n\r\n{body}")
        self._send(message.encode(), addr)

    def _port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(data, addr)


async def start_bad_carrier(port: int) -> tuple[asyncio.DatagramTransport, BadCarrier]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(BadCarrier, local_addr=("127.0.0.1", port))
    return transport, protocol  # type: ignore[return-value]
