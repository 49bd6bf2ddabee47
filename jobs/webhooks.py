"""Webhook deliveries: signed, sent without following redirects, retried with backoff for a day.

Each delivery is signed with the subscription's secret:

    X-Yiyang-Event: certificate.issued
    X-Yiyang-Timestamp: 1767225600
    X-Yiyang-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}.{body}"))

Targets on private, loopback, link-local or reserved addresses are refused unless the host is
listed in YIYANG_WEBHOOK_ALLOW_HOSTS; the check is made when subscribing and again on each send.
The same deny list protects the group-bot channel of notifications.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from sqlalchemy import update
from sqlmodel import col

from core.timeutil import utcnow

log = logging.getLogger("yiyang.webhooks")

# Waits between attempts: 9 tries over about a day, then the delivery is failed.
BACKOFF_S = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
TIMEOUT_S = 10
LEASE_S = 120


class UrlRefused(ValueError):
    """The URL may not be called; the message says why (Chinese)."""


def allowed_hosts(app: Flask | None = None) -> set[str]:
    raw = (app.config.get("WEBHOOK_ALLOW_HOSTS") if app is not None else None) \
        or os.environ.get("YIYANG_WEBHOOK_ALLOW_HOSTS", "")
    return {h.strip().lower() for h in str(raw).split(",") if h.strip()}


def check_url(url: str, app: Flask | None = None) -> str:
    """The URL when it may be called; UrlRefused otherwise."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("地址必须以 http:// 或 https:// 开头并包含主机名")
    if len(url) > 500:
        raise UrlRefused("地址不能超过 500 个字符")
    host = parts.hostname.lower()
    if host in allowed_hosts(app):
        return url
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UrlRefused(f"无法解析主机 {host}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                or address.is_reserved or address.is_unspecified):
            raise UrlRefused(f"主机 {host} 位于内网或本机地址（{address}），"
                             "如确需使用请把它加入 YIYANG_WEBHOOK_ALLOW_HOSTS")
    return url


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not an invitation to call another host


def post_json(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the body; the HTTP status (an error status is returned, not raised)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "Yiyang-Webhooks/1", **headers})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_S) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def deliver(app: Flask, delivery_id: int) -> float | None:
    """Send one pending delivery whose time has come; the delay before the next try, or None."""
    from core.crypto import cipher
    from jobs.models import WebhookDelivery, WebhookSubscription
    from jobs.runner import job_session

    with app.app_context(), job_session(app) as session:
        now = utcnow()
        claimed = session.execute(
            update(WebhookDelivery).where(col(WebhookDelivery.id) == delivery_id,
                                          col(WebhookDelivery.status) == "pending",
                                          col(WebhookDelivery.next_attempt_at) <= now)
            .values(attempts=WebhookDelivery.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=LEASE_S)))
        session.commit()
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        delivery = session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        session.refresh(delivery)
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        status: int | None = None
        error: str | None = None
        if subscription is None or not subscription.is_active:
            error = "订阅已停用"
        else:
            body = body_of(delivery.payload)
            timestamp = str(int(time.time()))
            secret = cipher().decrypt(subscription.secret_encrypted) or ""
            try:
                check_url(subscription.url, app)
                status = post_json(subscription.url, body, {
                    "X-Yiyang-Event": delivery.event, "X-Yiyang-Timestamp": timestamp,
                    "X-Yiyang-Signature": sign(secret, timestamp, body),
                    "X-Yiyang-Delivery": str(delivery.id)})
            except UrlRefused as exc:
                error = str(exc)
            except Exception as exc:  # any failure to send is logged and retried
                error = f"{type(exc).__name__}: {exc}"[:500]
        delivery.last_status_code = status
        delivery.last_error = error if error else (None if status and status < 300 else f"HTTP {status}")
        if status is not None and 200 <= status < 300:
            delivery.status = "delivered"
            delivery.delivered_at = utcnow()
            delay = None
        elif subscription is None or not subscription.is_active or delivery.attempts > len(BACKOFF_S):
            delivery.status = "failed"
            delay = None
        else:
            delay = float(BACKOFF_S[delivery.attempts - 1])
            delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
            delivery.enqueued_at = delivery.next_attempt_at
        session.add(delivery)
        session.commit()
        log.info("webhook %s %s → %s %s", delivery.id, delivery.event, status, error or "")
        return delay


def resend(session: Any, delivery: Any) -> None:
    """Send a delivery again from the start of its schedule (the delivery page's button)."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.enqueued_at = utcnow()
    delivery.last_error = None
    session.add(delivery)
