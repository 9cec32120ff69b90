from __future__ import annotations

from ..base import IntegrationType

# Bot tokens and incoming-webhook URLs are issued when the app is installed
# from Slack's UI; no API mints replacements for them, so rotation is a reminder.
ENTRY = IntegrationType(
    name="slack",
    title="Slack",
    category="alerting",
    component="Slack",
    automatic_rotation=False,
    docs="https://api.slack.com/methods/auth.test",
    deploys=True,
)
