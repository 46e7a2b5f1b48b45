"""The audit log, for platform admins: who did what, when, on whose data; with filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import aliased

from core.audit import record
from core.auth.access import login_required, require_platform_admin
from core.extensions import db
from core.models import AuditEntry, District, User
from core.models.types import utcnow

bp = Blueprint("audit", __name__)

PAGE_SIZE = 200


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def audit_entries(filters: dict[str, Any], limit: int = PAGE_SIZE) -> list[tuple[Any, ...]]:
    """Audit rows matching the filters (actor/subject e-mail contains, action prefix, district
    slug, from/to dates in UTC), newest first, with the actor, subject and district joined."""
    actor = aliased(User)
    subject = aliased(User)
    query = (
        select(AuditEntry, actor.email, subject.email, District.slug)
        .outerjoin(actor, actor.id == AuditEntry.actor_id)
        .outerjoin(subject, subject.id == AuditEntry.subject_user_id)
        .outerjoin(District, District.id == AuditEntry.district_id)
    )
    if filters.get("actor"):
        query = query.where(actor.email.contains(filters["actor"].lower(), autoescape=True))
    if filters.get("subject"):
        query = query.where(subject.email.contains(filters["subject"].lower(), autoescape=True))
    if filters.get("action"):
        query = query.where(AuditEntry.action.startswith(filters["action"], autoescape=True))
    if filters.get("district"):
        query = query.where(District.slug == filters["district"])
    if filters.get("since"):
        query = query.where(
            AuditEntry.at >= datetime.combine(filters["since"], time(0), tzinfo=UTC)
        )
    if filters.get("until"):
        end = datetime.combine(filters["until"] + timedelta(days=1), time(0), tzinfo=UTC)
        query = query.where(AuditEntry.at < end)
    return list(
        db.session.execute(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        ).all()
    )


@bp.get("/admin/audit")
@login_required
def audit_log() -> str:
    """The audit log with filters by actor, action, district, subject and date."""
    user = require_platform_admin()
    filters = {
        "actor": (request.args.get("actor") or "").strip()[:254],
        "subject": (request.args.get("subject") or "").strip()[:254],
        "action": (request.args.get("action") or "").strip()[:64],
        "district": (request.args.get("district") or "").strip()[:64],
        "since": _day(request.args.get("since")),
        "until": _day(request.args.get("until")),
    }
    rows = audit_entries(filters)
    districts = list(db.session.scalars(select(District.slug).order_by(District.slug)))
    record(
        "audit.view",
        actor=user,
        target_type="audit_log",
        target_id="",
        details={k: str(v) for k, v in filters.items() if v},
    )
    db.session.commit()
    return render_template(
        "audit/log.html", rows=rows, filters=filters, districts=districts, now=utcnow()
    )
