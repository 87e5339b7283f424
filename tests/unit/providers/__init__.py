"""Unit tests of the payment provider adapters (PayPal), against in-process fakes."""
