"""Offline stand-ins for the payment providers: for tests and demos, never for production."""
