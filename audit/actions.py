"""Every action name the code records, for the audit page's filter (no SELECT DISTINCT over
millions of events). tests/audit/test_audit_actions.py fails when a `record_event(action=...)`
in the code is missing here: add new names when adding events."""

from __future__ import annotations

ACTIONS: tuple[str, ...] = (
    "api_token.revoke",
    "assessment.amend", "assessment.approve", "assessment.drawn_signature.add", "assessment.photo.add", "assessment.photo.delete", "assessment.reopen", "assessment.report.batch", "assessment.report.download",
    "assessment.return", "assessment.sign", "assessment.sign_failed", "assessment.start", "assessment.submit",
    "assessment.visit.start",
    "audit.checkpoint", "audit.export",
    "elder.import", "elder.register", "elder.reveal", "elder.update",
    "entitlement.set",
    "export.run",
    "instruments.import", "instruments.rescore",
    "job.download",
    "login", "login.api", "login.failed", "login.rate_limited", "logout",
    "organisation.contract", "organisation.contract_end", "organisation.create", "organisation.update",
    "rating.action.close", "rating.action.escalate", "rating.action.evidence", "rating.action.reject",
    "rating.action.verify",
    "rating.certificate.issue", "rating.certificate.revoke",
    "rating.facility.create", "rating.facility.disqualify", "rating.facility.import", "rating.facility.update",
    "rating.grade.supersede",
    "rating.inspection.approve", "rating.inspection.return", "rating.inspection.save", "rating.inspection.start",
    "rating.inspection.submit",
    "rating.photo.add",
    "rating.plan.create", "rating.plan.draw", "rating.plan.publish", "rating.plan.publish_results",
    "rating.reward.delete", "rating.reward.set",
    "user.activate", "user.create", "user.import", "user.deactivate", "user.password_change", "user.notify_settings", "user.password_reset", "user.roles",
    "user.update", "user.qualification", "user.qualification_update",
    "webhook.resend", "webhook.subscribe", "webhook.toggle",
)
