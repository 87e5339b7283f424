"""Is the database's schema the one this code was written for? Asked once, before start-up.

`eventpay serve` and `eventpay worker` call `schema_problem` before they build anything: against
an empty or half-migrated database they would otherwise start and fail on every request or
every poll (`no such table`, forever). The answer compares the Alembic revision stored in the
database with the head of `db/migrations`; it never changes the database (`eventpay migrate`
does that), and for a SQLite file that does not exist it does not create one.
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from eventpay.db.engine import alembic_config, printable_url

MIGRATE = "run `eventpay migrate` first"


def code_heads(url: str) -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code."""
    return frozenset(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def database_heads(url: str) -> frozenset[str]:
    """The revision(s) Alembic recorded in the database; empty when it was never migrated."""
    engine = create_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    try:
        with engine.connect() as connection:
            return frozenset(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(str(parsed.database)).exists()


def _known(url: str, revision: str) -> bool:
    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        return False
    return True


def schema_problem(url: str) -> str | None:
    """None when the database at `url` is at this code's head; otherwise one line saying why."""
    where = printable_url(url)
    if _missing_sqlite_file(url):
        return f"database {where} does not exist: {MIGRATE}"
    try:
        found = database_heads(url)
    except SQLAlchemyError as exc:
        # The driver's message can span lines; its first line names the cause.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot read the schema version of database {where}: {reason}"
    wanted = code_heads(url)
    if found == wanted:
        return None
    if not found:
        return f"database {where} has no eventpay schema: {MIGRATE}"
    unknown = sorted(rev for rev in found if not _known(url, rev))
    if unknown:
        return (
            f"database {where} is at revision {', '.join(unknown)}, which this code does not "
            "know: it was migrated by a newer eventpay"
        )
    return (
        f"database {where} is at revision {', '.join(sorted(found))}, this code needs "
        f"{', '.join(sorted(wanted))}: {MIGRATE}"
    )
