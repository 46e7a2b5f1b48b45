"""Writing the audit log: admin actions and access to personal data (who, what, when, whose)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from core.extensions import db
from core.models import AuditEntry, User


def record(
    action: str,
    *,
    actor: User | None,
    target_type: str,
    target_id: object,
    subject_user_id: int | None = None,
    district_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit row in the caller's transaction (no commit) and return it."""
    entry = AuditEntry(
        action=action[:64],
        actor_id=actor.id if actor is not None else None,
        target_type=target_type[:32],
        target_id=str(target_id if target_id is not None else "")[:64],
        subject_user_id=subject_user_id,
        district_id=district_id,
        details=dict(details or {}),
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
