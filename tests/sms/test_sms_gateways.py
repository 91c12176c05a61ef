"""Gateways against real endpoints: a file on disk and an HTTP server on 127.0.0.1."""

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from dialer.domain import SmsStatus
from dialer.sms.gateway import FileGateway, LogGateway, OutgoingSms, SmsGatewayError
from dialer.sms.webhook import HttpWebhookGateway, parse_delivery_report

MESSAGE = OutgoingSms(message_id="42", to_e164="+8613800138000", body="【示例银行】您好",
                      sender="95500")


class _SmsService(BaseHTTPRequestHandler):
    """A tiny SMS provider: /ok accepts, /reject refuses the number, /busy is overloaded."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "body": json.loads(body),
                              "idempotency": self.headers.get("Idempotency-Key"),
                              "auth": self.headers.get("Authorization")})
        status, reply = {"/ok": (202, {"id": "prov-7"}),
                         "/reject": (400, {"error": "invalid destination"}),
                         "/busy": (503, {"error": "try later"}),
                         "/throttle": (429, {"error": "slow down"})}[self.path]
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def sms_service() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []
    handler = type("Handler", (_SmsService,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_given_an_accepting_service_when_sending_then_json_idempotency_and_auth_are_posted(
        sms_service):
    base, received = sms_service
    async with httpx.AsyncClient() as client:
        gateway = HttpWebhookGateway(url=f"{base}/ok", client=client, token="s3cret")
        receipt = await gateway.send(MESSAGE)
    assert (receipt.status, receipt.gateway_ref) == (SmsStatus.SENT, "prov-7")
    assert received == [{"path": "/ok", "body": {"id": "42", "to": "+8613800138000",
                                                  "text": "【示例银行】您好", "sender": "95500"},
                         "idempotency": "42", "auth": "Bearer s3cret"}]


async def test_given_a_service_that_rejects_the_number_then_the_receipt_is_a_permanent_failure(
        sms_service):
    base, _ = sms_service
    async with httpx.AsyncClient() as client:
        receipt = await HttpWebhookGateway(url=f"{base}/reject", client=client).send(MESSAGE)
    assert receipt.status is SmsStatus.FAILED and "HTTP 400" in receipt.error
    assert "invalid destination" in receipt.error


@pytest.mark.parametrize("path", ["/busy", "/throttle"])
async def test_given_an_overloaded_service_then_a_retryable_error_is_raised(sms_service, path):
    base, _ = sms_service
    async with httpx.AsyncClient() as client:
        with pytest.raises(SmsGatewayError) as caught:
            await HttpWebhookGateway(url=f"{base}{path}", client=client).send(MESSAGE)
    assert caught.value.retryable


async def test_given_nothing_listening_when_sending_then_a_retryable_error_names_the_url():
    with socket.socket() as probe:       # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/ok"
    async with httpx.AsyncClient() as client:
        with pytest.raises(SmsGatewayError, match=f"127.0.0.1:{port}") as caught:
            await HttpWebhookGateway(url=url, client=client, timeout_s=2).send(MESSAGE)
    assert caught.value.retryable


def test_given_delivery_reports_then_they_parse_or_are_refused():
    report = parse_delivery_report({"id": "prov-7", "status": "delivered"})
    assert (report.gateway_ref, report.status) == ("prov-7", SmsStatus.DELIVERED)
    failed = parse_delivery_report({"id": 9, "status": "failed", "error": "absent subscriber"})
    assert (failed.gateway_ref, failed.status, failed.error) == ("9", SmsStatus.FAILED,
                                                                 "absent subscriber")
    with pytest.raises(ValueError, match="status"):
        parse_delivery_report({"id": "x", "status": "lost"})


async def test_given_the_file_gateway_when_sending_twice_then_two_json_lines_are_written(tmp_path):
    path = tmp_path / "out" / "sms.jsonl"
    gateway = FileGateway(path)
    first = await gateway.send(MESSAGE)
    await gateway.send(OutgoingSms("43", "+15555550100", "Acme Bank: hello"))
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["message_id"] for line in lines] == ["42", "43"]
    assert lines[0]["body"] == "【示例银行】您好"
    assert first.status is SmsStatus.SENT


async def test_given_the_log_gateway_then_only_the_number_tail_is_logged(caplog):
    caplog.set_level(logging.INFO, logger="sms-test")
    await LogGateway(logging.getLogger("sms-test")).send(MESSAGE)
    assert "...8000" in caplog.text and "+8613800138000" not in caplog.text
