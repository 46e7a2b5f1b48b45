"""Notifications: the mail outbox, its senders, and the messages the platform sends."""
