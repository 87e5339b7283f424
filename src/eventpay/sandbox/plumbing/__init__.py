"""Provider-neutral plumbing that both sandboxes run on; no provider's shapes or rules live here.

    server.py     binding a socket, serving in the foreground, `BackgroundServer` for tests
    faults.py     `/_sandbox/faults` specs and the book of armed faults
    delivery.py   webhook retry schedule and the background delivery loop
    control.py    JSON helpers and the `/_sandbox/` routes that mean the same in every sandbox
    state.py      the store's lock and its event listener
    cli.py        the command-line options every sandbox takes

What differs between providers stays in `eventpay.sandbox.stripe` and `eventpay.sandbox.paypal`:
routes, object and event shapes, error bodies, signing, idempotency rules and defaults such as
ports and retry counts. Nothing here imports either sandbox, so neither depends on the other.
"""
