"""The SMPP gateway against a real SMPP peer: Debian's Net::SMPP (libnet-smpp-perl) as the SMSC."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.domain import SmsStatus
from dialer.sms.gateway import OutgoingSms, SmsGatewayError
from dialer.sms.smpp import SmppGateway, SmppSettings

SMSC_SCRIPT = Path(__file__).with_name("smsc.pl")


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    log = tmp_path / "smsc.log"
    process = subprocess.Popen(["perl", str(SMSC_SCRIPT), str(log)], stdout=subprocess.PIPE,
                               stderr=sys.stderr, text=True)
    try:
        first = process.stdout.readline().split()   # "PORT n" once listening
        assert first[:1] == ["PORT"], (f"SMSC did not start ({first!r}): is the Debian package "
                                       "libnet-smpp-perl installed?")
        yield int(first[1]), log
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def settings(port: int, password: str = "secret") -> SmppSettings:
    return SmppSettings(host="127.0.0.1", port=port, system_id="dialer", password=password,
                        source_addr="95500", timeout_s=5)


def logged(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()]


async def test_given_a_bound_session_when_sending_two_texts_then_the_smsc_ids_come_back(smsc):
    port, log = smsc
    gateway = SmppGateway(settings(port))
    try:
        first = await gateway.send(OutgoingSms("1", "+15555550100", "Acme Bank: hello"))
        second = await gateway.send(OutgoingSms("2", "+15555550101", "Acme Bank: again"))
    finally:
        await gateway.close()
    assert (first.status, first.gateway_ref) == (SmsStatus.SENT, "smsc-1")
    assert second.gateway_ref == "smsc-2"
    destination, coding, esm_class, body = logged(log)[0]
    assert (destination, coding, esm_class) == ("15555550100", "0", "0")
    assert bytes.fromhex(body) == b"Acme Bank: hello"


async def test_given_a_long_chinese_text_when_sending_then_ucs2_parts_with_udh_arrive(smsc):
    port, log = smsc
    text = "【示例银行】" + "您尾号1234的账户应还款1,234.50元。" * 6   # > 70 UCS-2 characters
    gateway = SmppGateway(settings(port))
    try:
        receipt = await gateway.send(OutgoingSms("3", "+8613800138000", text))
    finally:
        await gateway.close()
    assert receipt.status is SmsStatus.SENT
    parts = logged(log)
    assert len(parts) == 3
    # data_coding 8 = UCS2, esm_class 0x40 = UDHI (concatenation header present)
    assert all(coding == "8" and esm_class == "64" for _, coding, esm_class, _ in parts)
    # strip each 6-byte concatenation header and reassemble the UTF-16BE text
    reassembled = b"".join(bytes.fromhex(body)[6:] for *_, body in parts).decode("utf-16-be")
    assert reassembled == text


async def test_given_an_invalid_destination_then_the_receipt_is_a_permanent_failure(smsc):
    port, _ = smsc
    gateway = SmppGateway(settings(port))
    try:
        receipt = await gateway.send(OutgoingSms("4", "+9990001", "hello"))
        # the session survives a refused message
        after = await gateway.send(OutgoingSms("5", "+15555550100", "hello"))
    finally:
        await gateway.close()
    assert receipt.status is SmsStatus.FAILED and "sending 4" in receipt.error
    assert after.status is SmsStatus.SENT


async def test_given_throttling_then_a_retryable_error_is_raised(smsc):
    port, _ = smsc
    gateway = SmppGateway(settings(port))
    try:
        with pytest.raises(SmsGatewayError) as caught:
            await gateway.send(OutgoingSms("6", "+8880001", "hello"))
    finally:
        await gateway.close()
    assert caught.value.retryable


async def test_given_a_wrong_password_then_the_error_says_to_check_the_credentials(smsc):
    port, _ = smsc
    gateway = SmppGateway(settings(port, password="wrong"))
    with pytest.raises(SmsGatewayError, match="check system_id and password") as caught:
        await gateway.send(OutgoingSms("7", "+15555550100", "hello"))
    assert caught.value.retryable   # stays queued until an admin fixes the settings
    await gateway.close()


async def test_given_no_smsc_listening_then_a_retryable_connection_error_is_raised():
    gateway = SmppGateway(SmppSettings(host="127.0.0.1", port=1, system_id="dialer",
                                       password="secret", source_addr="95500", timeout_s=2))
    with pytest.raises(SmsGatewayError, match="127.0.0.1:1") as caught:
        await gateway.send(OutgoingSms("8", "+15555550100", "hello"))
    assert caught.value.retryable
