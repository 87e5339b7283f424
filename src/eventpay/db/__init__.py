"""Persistence adapter: SQLAlchemy tables, repositories and the unit of work.

Implements the repository protocols of `eventpay.ports`. Nothing outside this package imports
SQLAlchemy models; services get records.
"""

from eventpay.db.engine import is_postgres, make_engine, migrate, printable_url
from eventpay.db.uow import SqlUnitOfWork, SqlUnitOfWorkFactory

__all__ = [
    "SqlUnitOfWork",
    "SqlUnitOfWorkFactory",
    "is_postgres",
    "make_engine",
    "migrate",
    "printable_url",
]
