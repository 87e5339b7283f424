"""The SQLAlchemy unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from eventpay.db.catalog_repository import SqlCatalogRepository
from eventpay.db.connect_repository import SqlConnectRepository
from eventpay.db.ledger_checks import SqlLedgerCheckRepository
from eventpay.db.ledger_repository import SqlLedgerRepository
from eventpay.db.membership_repository import SqlMembershipRepository
from eventpay.db.merch_repository import SqlMerchandiseRepository
from eventpay.db.order_repository import SqlOrderRepository, SqlRefundRepository
from eventpay.db.pass_repository import SqlPassRepository
from eventpay.db.payment_repository import SqlAuditRepository, SqlPaymentRepository
from eventpay.db.payout_repository import SqlPayoutRepository
from eventpay.db.place_repository import SqlPlaceRepository
from eventpay.db.promo_repository import SqlPromoRepository
from eventpay.db.reconciliation_repository import SqlReconciliationRepository
from eventpay.db.sponsor_repository import SqlSponsorshipRepository
from eventpay.db.team_repository import SqlTeamRepository
from eventpay.db.webhook_repository import SqlIdempotencyRepository, SqlWebhookEventRepository
from eventpay.ports import (
    AuditRepository,
    CatalogRepository,
    ConnectRepository,
    IdempotencyRepository,
    LedgerRepository,
    OrderRepository,
    PaymentRepository,
    ReconciliationRepository,
    RefundRepository,
    UnitOfWork,
    WebhookEventRepository,
)
from eventpay.ports.memberships import MembershipRepository
from eventpay.ports.merchandise import MerchandiseRepository
from eventpay.ports.passes import PassRepository
from eventpay.ports.payouts import PayoutRepository
from eventpay.ports.places import PlaceRepository
from eventpay.ports.promos import PromoRepository
from eventpay.ports.repositories import LedgerCheckRepository
from eventpay.ports.sponsorships import SponsorshipRepository
from eventpay.ports.teams import TeamRepository


class SqlUnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

    def __enter__(self) -> Self:
        session = self._factory()
        self._session = session
        self.catalog: CatalogRepository = SqlCatalogRepository(session)
        self.orders: OrderRepository = SqlOrderRepository(session)
        self.payments: PaymentRepository = SqlPaymentRepository(session)
        self.refunds: RefundRepository = SqlRefundRepository(session)
        self.audit: AuditRepository = SqlAuditRepository(session)
        self.webhooks: WebhookEventRepository = SqlWebhookEventRepository(session)
        self.idempotency: IdempotencyRepository = SqlIdempotencyRepository(session)
        self.ledger: LedgerRepository = SqlLedgerRepository(session)
        self.reconciliation: ReconciliationRepository = SqlReconciliationRepository(session)
        self.ledger_checks: LedgerCheckRepository = SqlLedgerCheckRepository(session)
        self.payouts: PayoutRepository = SqlPayoutRepository(session)
        self.connect: ConnectRepository = SqlConnectRepository(session)
        self.places: PlaceRepository = SqlPlaceRepository(session)
        self.promos: PromoRepository = SqlPromoRepository(session)
        self.teams: TeamRepository = SqlTeamRepository(session)
        self.passes: PassRepository = SqlPassRepository(session)
        self.merchandise: MerchandiseRepository = SqlMerchandiseRepository(session)
        self.memberships: MembershipRepository = SqlMembershipRepository(session)
        self.sponsorships: SponsorshipRepository = SqlSponsorshipRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        try:
            session.rollback()
        finally:
            session.close()

    def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit outside a unit of work")
        self._session.commit()

    def rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()


class SqlUnitOfWorkFactory:
    """Callable that opens a new unit of work on `engine`; the composition root builds one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions)


def _conforms(uow: SqlUnitOfWork) -> UnitOfWork:
    # Type-checked statement that SqlUnitOfWork implements the port (mypy fails otherwise).
    return uow
