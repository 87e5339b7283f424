"""Offline stand-ins for the payment providers: for tests and demos, never for production.

`stripe/` and `paypal/` each emulate one provider's API; `plumbing/` holds the provider-neutral
plumbing both run on (serving, faults, webhook retries, test controls) and imports neither.
"""
