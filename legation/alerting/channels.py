"""Delivery channels: e-mail over SMTP, and webhooks shaped for generic JSON, Slack and Teams."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

import httpx

from legation.errors import DeliveryError
from legation.settings import Settings

CHANNEL_KINDS = ("email", "webhook", "slack", "teams")


def payload_for(kind: str, alert: dict[str, Any]) -> dict[str, Any]:
    """The JSON body a webhook of this kind expects."""
    text = f"[Level {alert['level']}] {alert['title']}"
    if kind == "slack":
        return {
            "text": text,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": text[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": alert["body"][:2900]}},
            ],
        }
    if kind == "teams":
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "body": [
                            {"type": "TextBlock", "text": text, "weight": "Bolder", "wrap": True},
                            {"type": "TextBlock", "text": alert["body"], "wrap": True},
                        ],
                    },
                }
            ],
        }
    return {"event": "legation.alert", "alert": alert}


def send_email(settings: Settings, *, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise DeliveryError(f"e-mail to {to!r}: no SMTP server configured (LEGATION_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.http_timeout_seconds
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"e-mail to {to!r} via {settings.smtp_host}:{settings.smtp_port} failed: {exc}"
        ) from exc


def post_webhook(client: httpx.Client, *, url: str, kind: str, alert: dict[str, Any]) -> None:
    try:
        response = client.post(
            url, json=payload_for(kind, alert), headers={"Idempotency-Key": alert["dedup_key"]}
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{kind} webhook {_safe(url)} failed: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryError(f"{kind} webhook {_safe(url)} answered {response.status_code}")


def _safe(url: str) -> str:
    """Webhook URLs often carry a token in the path: show scheme and host only."""
    parsed = httpx.URL(url)
    return f"'{parsed.scheme}://{parsed.host}/…'"
