"""Alert rules, alerts, delivery over channels (SMTP, webhooks), acknowledgement and escalation."""
