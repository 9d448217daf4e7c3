"""The notifier: alerts from the ``vigie.alerts`` topic to the people who act on them (e-mail,
webhooks, chat rooms through apprise), with a durable lifecycle (open, acknowledged,
cleared), grouping, flap suppression, maintenance windows and escalation."""

# what other packages use (the command line)
__all__ = ["channels", "config", "service", "store"]
