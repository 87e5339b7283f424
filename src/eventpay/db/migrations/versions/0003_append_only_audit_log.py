"""The audit log is append-only in the database itself

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

An auditor must be able to trust that rows were never edited or removed, even by a bug or an
operator with SQL access through the application's role: UPDATE and DELETE on
payment_audit_log raise. (A superuser can still drop the trigger; that is itself visible.)
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MESSAGE = "payment_audit_log is append-only"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION payment_audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            """
            CREATE TRIGGER payment_audit_log_append_only
            BEFORE UPDATE OR DELETE ON payment_audit_log
            FOR EACH ROW EXECUTE FUNCTION payment_audit_log_append_only()
            """
        )
        op.execute(
            """
            CREATE TRIGGER payment_audit_log_no_truncate
            BEFORE TRUNCATE ON payment_audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION payment_audit_log_append_only()
            """
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER payment_audit_log_no_{event.lower()}
                BEFORE {event} ON payment_audit_log
                BEGIN
                    SELECT RAISE(ABORT, '{MESSAGE}');
                END
                """
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER payment_audit_log_no_truncate ON payment_audit_log")
        op.execute("DROP TRIGGER payment_audit_log_append_only ON payment_audit_log")
        op.execute("DROP FUNCTION payment_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER payment_audit_log_no_update")
        op.execute("DROP TRIGGER payment_audit_log_no_delete")
