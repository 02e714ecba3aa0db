"""Where pushes may go: webhook and Apprise targets on loopback or private networks are refused
unless ``NEWSMON_ALLOW_PRIVATE_TARGETS`` is on (a subscriber must not make newsmon probe the
operator's internal network). Checked when a subscription is saved and again before each send,
since DNS answers can change."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    pass


#: Apprise schemes that reach a host the subscriber names (self-hosted services and generic
#: HTTP); the others (slack://, tgram://, msteams:// …) carry tokens for a fixed SaaS host.
SELF_HOSTED_APPRISE = frozenset(
    "json jsons xml xmls form forms matrix matrixs ntfy ntfys gotify gotifys apprise apprises "
    "mmost mmosts rocket rockets nctalk nctalks ncloud nclouds mastodon mastodons toot toots "
    "signal signals".split()
)


def check_apprise_target(url: str, allow_private: bool) -> None:
    scheme = url.split("://", 1)[0].lower()
    if scheme in SELF_HOSTED_APPRISE:
        check_target(url, allow_private)


def check_target(url: str, allow_private: bool) -> None:
    """Raise TargetRefused when ``url``'s host is, or resolves to, a non-public address."""
    if allow_private:
        return
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        raise TargetRefused(f"{url!r} is not a valid URL") from None
    if not host:
        return  # Apprise URLs of services without a host part (e.g. tokens only)
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {host!r}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TargetRefused(
                f"{host} resolves to {address}, a loopback/private address; refused "
                "(NEWSMON_ALLOW_PRIVATE_TARGETS allows it)"
            )
