"""SMPP 3.4 gateway on smpplib: bind as a transmitter once, submit_sm per part, wait for the resp.

smpplib is a blocking socket client, so each send runs in a worker thread, one at a time (a bound
SMPP session is a single ordered stream). Long texts are split with UDH concatenation by smpplib;
the SMSC's message id of the first part is the gateway reference (delivery receipts name parts).
Status codes from the SMPP 3.4 spec, section 5.1.3: throttling and a full queue are transient; a
bad destination, bind or content is permanent.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from dialer.domain import SmsStatus
from dialer.sms.gateway import OutgoingSms, SendReceipt, SmsGatewayError

# ESME_RMSGQFUL, ESME_RTHROTTLED, ESME_RX_T_APPN (temporary application error), ESME_RSYSERR
_TRANSIENT_STATUSES = frozenset({0x14, 0x58, 0x64, 0x08})


@dataclass(frozen=True)
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str                       # from the environment or a secrets file, never a default
    source_addr: str                    # the registered sender: short code or alphanumeric id
    alphanumeric_source: bool = False
    timeout_s: float = 10.0
    delivery_receipts: bool = True


class SmppGateway:
    name = "smpp"

    def __init__(self, settings: SmppSettings) -> None:
        self.settings = settings
        self._client: smpplib.client.Client | None = None
        self._lock = threading.Lock()

    async def send(self, message: OutgoingSms) -> SendReceipt:
        return await asyncio.to_thread(self._send_blocking, message)

    async def close(self) -> None:
        await asyncio.to_thread(self._close_blocking)

    def _send_blocking(self, message: OutgoingSms) -> SendReceipt:
        with self._lock:
            try:
                client = self._bound_client()
                parts, coding, esm_class = smpplib.gsm.make_parts(message.body)
                references = [self._submit(client, message, part, coding, esm_class)
                              for part in parts]
            except smpplib.exceptions.PDUError as error:
                status = error.args[1] if len(error.args) > 1 else None
                detail = f"{error.args[0]} sending {message.message_id}"
                if status in _TRANSIENT_STATUSES:
                    raise SmsGatewayError(self.name, detail, retryable=True) from error
                return SendReceipt(SmsStatus.FAILED, self.name, error=detail)
            except (smpplib.exceptions.ConnectionError, OSError) as error:
                self._drop_client()   # rebind on the next send
                raise SmsGatewayError(self.name, f"connection to {self.settings.host}:"
                                      f"{self.settings.port} failed: {error!r}",
                                      retryable=True) from error
        return SendReceipt(SmsStatus.SENT, self.name, gateway_ref=references[0])

    def _submit(self, client: smpplib.client.Client, message: OutgoingSms, part: bytes,
                coding: int, esm_class: int) -> str:
        source_ton = (smpplib.consts.SMPP_TON_ALNUM if self.settings.alphanumeric_source
                      else smpplib.consts.SMPP_TON_INTL)
        submitted = client.send_message(
            source_addr_ton=source_ton, source_addr=self.settings.source_addr,
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL, dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
            destination_addr=message.to_e164.lstrip("+"), short_message=part,
            data_coding=coding, esm_class=esm_class,
            registered_delivery=self.settings.delivery_receipts)
        responses: dict[int, str] = {}
        client.set_message_sent_handler(
            lambda pdu: responses.__setitem__(pdu.sequence, _text(pdu.message_id)))
        while submitted.sequence not in responses:
            client.read_once()   # raises PDUError on an error status; answers enquire_link
        return responses[submitted.sequence]

    def _bound_client(self) -> smpplib.client.Client:
        if self._client is None:
            client = smpplib.client.Client(self.settings.host, self.settings.port,
                                           timeout=self.settings.timeout_s,
                                           allow_unknown_opt_params=True)
            try:
                client.connect()
            except smpplib.exceptions.ConnectionError:
                client.disconnect()   # smpplib leaves the failed socket open otherwise
                raise
            try:
                client.bind_transmitter(system_id=self.settings.system_id,
                                        password=self.settings.password)
            except smpplib.exceptions.PDUError as error:
                client.disconnect()
                # a configuration problem, not the message's: keep it queued until an admin acts
                raise SmsGatewayError(self.name, f"bind as {self.settings.system_id!r} refused "
                                      f"({error.args[0]}); check system_id and password",
                                      retryable=True) from error
            self._client = client
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()
            finally:
                self._client = None

    def _close_blocking(self) -> None:
        with self._lock:
            if self._client is None:
                return
            try:
                self._client.unbind()
            except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError):
                pass  # closing anyway; the SMSC drops the session when the socket closes
            self._drop_client()


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace").rstrip("\x00")
    return value or ""
