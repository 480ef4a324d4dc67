"""Channels from one replica to another, for calls forwarded to a partition's owner.

Plaintext when the gRPC port is. With TLS on, the replica dials its peer with TLS and
presents its own certificate (so forwarding works under mTLS too); it trusts, in this
order, the client CA bundle (EVENTPLANE_TLS_CLIENT_CA_FILE), a ``ca.crt`` beside the
certificate (what cert-manager and the chart's Secret hold), else the certificate itself
(a self-signed one shared by every replica). Replicas dial pod addresses, so the name
checked on the peer's certificate is EVENTPLANE_TLS_SERVER_NAME when set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from eventplane.client._channel import MAX_MESSAGE_BYTES
from eventplane.config import Settings
from eventplane.security.replicas import FORWARDED_KEY
from eventplane.security.tls import TlsFiles, read_pem
from eventplane.tracing import REQUEST_ID_KEY, TRACE_ID_KEY, current_trace


def peer_roots(files: TlsFiles) -> bytes:
    """The CA bundle a replica trusts for its peers' certificates."""
    if files.client_ca_file:
        return read_pem("EVENTPLANE_TLS_CLIENT_CA_FILE", files.client_ca_file)
    beside = Path(files.cert_file).with_name("ca.crt")
    if beside.is_file():
        return read_pem("EVENTPLANE_TLS_CERT_FILE", str(beside))
    return read_pem("EVENTPLANE_TLS_CERT_FILE", files.cert_file)


def peer_channel(
    settings: Settings, address: str, options: list[tuple[str, Any]]
) -> grpc.aio.Channel:
    """A channel to the replica at ``address``, speaking what the gRPC port speaks."""
    files = TlsFiles.from_settings(settings)
    if files is None:
        return grpc.aio.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=peer_roots(files),
        private_key=read_pem("EVENTPLANE_TLS_KEY_FILE", files.key_file),
        certificate_chain=read_pem("EVENTPLANE_TLS_CERT_FILE", files.cert_file),
    )
    if settings.tls_server_name:
        options = [*options, ("grpc.ssl_target_name_override", settings.tls_server_name)]
    return grpc.aio.secure_channel(address, credentials, options=options)


class Peers:
    """Channels to the other replicas (one each, kept) and the metadata of a forwarded call.

    Each capability that forwards wraps a channel in its own stub; the metadata carries
    its forward token (which tells the peer to serve from its own partitions and
    authenticates the call) and the caller's request and trace ids.
    """

    def __init__(self, token: str, settings: Settings | None = None) -> None:
        self._token = token
        self._settings = settings or Settings()
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, address: str) -> grpc.aio.Channel:
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = peer_channel(
                self._settings,
                address,
                [
                    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ],
            )
        return channel

    def metadata(self) -> tuple[tuple[str, str], ...]:
        md: list[tuple[str, str]] = [(FORWARDED_KEY, self._token)]
        ctx = current_trace()
        if ctx is not None:
            md += [(REQUEST_ID_KEY, ctx.request_id), (TRACE_ID_KEY, ctx.trace_id)]
        return tuple(md)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
