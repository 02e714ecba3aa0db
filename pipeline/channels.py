"""Sending one payload (an alert or a digest) through one channel: webhook, email or Apprise.

Each sender either returns, or raises ``TransientError`` (worth retrying, with the server's
Retry-After when it gave one) or ``PermanentError`` (retrying cannot help: a 4xx, a refused
target, a rejected recipient).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import requests

from pipeline import __version__
from pipeline.core.delivery import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    alert_html,
    alert_text,
    sign,
)
from pipeline.core.schedule import parse_retry_after
from pipeline.core.subscriptions import AppriseChannel, EmailChannel, WebhookChannel
from pipeline.settings import Settings
from pipeline.targets import TargetRefused, check_apprise_target, check_target


class TransientError(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(Exception):
    pass


def send(
    channel: WebhookChannel | EmailChannel | AppriseChannel,
    payload: dict[str, Any],
    key: str,
    settings: Settings,
) -> str:
    """Deliver ``payload``; returns a short outcome note (e.g. "HTTP 200")."""
    if isinstance(channel, WebhookChannel):
        return send_webhook(channel, payload, key, settings)
    if isinstance(channel, EmailChannel):
        return send_email(channel, payload, key, settings)
    return send_apprise(channel, payload, settings)


def send_webhook(
    channel: WebhookChannel, payload: dict[str, Any], key: str, settings: Settings
) -> str:
    try:
        check_target(channel.url, settings.allow_private_targets)
    except TargetRefused as exc:
        raise PermanentError(str(exc)) from None
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"newsmon/{__version__} (+{settings.user_agent_contact})",
        IDEMPOTENCY_HEADER: key,
    }
    if channel.secret:
        headers[SIGNATURE_HEADER] = sign(channel.secret, body, int(time.time()))
    try:
        resp = requests.post(
            channel.url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=(settings.connect_timeout, settings.delivery_timeout),
        )
    except requests.Timeout:
        raise TransientError("timeout") from None
    except requests.RequestException as exc:
        raise TransientError(f"connection failed: {type(exc).__name__}") from None
    if 200 <= resp.status_code < 300:
        return f"HTTP {resp.status_code}"
    reason = f"HTTP {resp.status_code}"
    if resp.status_code in (408, 425, 429) or resp.status_code >= 500:
        raise TransientError(
            reason, parse_retry_after(resp.headers.get("Retry-After"), time.time())
        )
    raise PermanentError(reason)


def send_email(channel: EmailChannel, payload: dict[str, Any], key: str, settings: Settings) -> str:
    if not settings.smtp_host:
        raise PermanentError("no SMTP server configured (NEWSMON_SMTP_HOST)")
    title, text = alert_text(payload)
    message = EmailMessage()
    message["Subject"] = title[:200]
    message["From"] = settings.smtp_from
    message["To"] = channel.to
    message["Message-ID"] = make_msgid(idstring=key, domain="newsmon.local")
    message["X-Newsmon-Idempotency-Key"] = key
    message.set_content(text)
    message.add_alternative(alert_html(payload), subtype="html")
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.delivery_timeout
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"recipient refused: {exc.recipients}") from None
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TransientError(f"SMTP {exc.smtp_code}") from None
        raise PermanentError(f"SMTP {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise TransientError(f"SMTP: {type(exc).__name__}: {exc}"[:200]) from None
    return "SMTP accepted"


def send_apprise(channel: AppriseChannel, payload: dict[str, Any], settings: Settings) -> str:
    import apprise

    try:
        check_apprise_target(channel.url, settings.allow_private_targets)
    except TargetRefused as exc:
        raise PermanentError(str(exc)) from None
    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        raise PermanentError("Apprise does not understand this URL")
    title, text = alert_text(payload)
    if not notifier.notify(title=title, body=text):
        raise TransientError("Apprise could not deliver (the service refused or was unreachable)")
    return "Apprise sent"
