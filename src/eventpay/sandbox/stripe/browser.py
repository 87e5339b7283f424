"""What a browser gets: the index page and `sandbox-stripe.js`, a tiny Stripe.js stand-in.

`SandboxStripe(publishableKey, {apiBase}).confirmCardPayment(clientSecret, {payment_method,
return_url?})` confirms with the publishable key (the `key` parameter) and client secret as
Stripe.js does,
then follows a 3-D Secure `next_action`: a redirect when a return_url was given, otherwise the
challenge page in an overlay frame while it polls the PaymentIntent. It resolves to
`{paymentIntent}` or `{error}` like Stripe.js. No API logic lives here.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from .cards import TEST_CARDS

SCRIPT = """/* sandbox-stripe.js: a tiny Stripe.js stand-in for the eventpay Stripe sandbox. */
(function (global) {
  "use strict";
  function SandboxStripe(publishableKey, options) {
    var apiBase = ((options && options.apiBase) || "").replace(/\\/$/, "");
    function call(method, path, params) {
      var body = new URLSearchParams();
      Object.keys(params).forEach(function (k) {
        if (params[k] != null) { body.append(k, params[k]); }
      });
      /* As Stripe.js: the publishable key is a parameter, not an Authorization header. */
      body.append("key", publishableKey);
      var url = apiBase + path + (method === "GET" ? "?" + body.toString() : "");
      return fetch(url, {
        method: method,
        headers: method === "GET" ? {} :
          {"Content-Type": "application/x-www-form-urlencoded"},
        body: method === "GET" ? undefined : body.toString()
      }).then(function (r) { return r.json(); });
    }
    function retrieve(secret) {
      var id = secret.split("_secret_")[0];
      return call("GET", "/v1/payment_intents/" + id, {client_secret: secret});
    }
    function outcome(pi) {
      if (pi.error) { return {error: pi.error}; }
      if (pi.last_payment_error && pi.status === "requires_payment_method") {
        var error = Object.assign({}, pi.last_payment_error, {payment_intent: pi});
        return {error: error};
      }
      return {paymentIntent: pi};
    }
    function challenge(url, secret) {
      var frame = document.createElement("iframe");
      frame.src = url;
      frame.style.cssText = "position:fixed;inset:10%;width:80%;height:80%;background:#fff;" +
        "border:2px solid #635bff;z-index:2147483647";
      document.body.appendChild(frame);
      return new Promise(function (resolve) {
        (function poll() {
          retrieve(secret).then(function (pi) {
            if (pi.status === "requires_action") { setTimeout(poll, 500); return; }
            frame.remove();
            resolve(outcome(pi));
          });
        })();
      });
    }
    return {
      retrievePaymentIntent: function (secret) {
        return retrieve(secret).then(function (pi) { return outcome(pi); });
      },
      confirmCardPayment: function (secret, data) {
        data = data || {};
        var id = secret.split("_secret_")[0];
        return call("POST", "/v1/payment_intents/" + id + "/confirm", {
          client_secret: secret, payment_method: data.payment_method, return_url: data.return_url
        }).then(function (pi) {
          if (pi.error) { return {error: pi.error}; }
          var next = pi.next_action;
          if (pi.status === "requires_action" && next && next.type === "redirect_to_url") {
            global.location.assign(next.redirect_to_url.url);
            return new Promise(function () {});
          }
          if (pi.status === "requires_action" && next && next.type === "use_stripe_sdk") {
            return challenge(next.use_stripe_sdk.stripe_js, secret);
          }
          return outcome(pi);
        });
      }
    };
  }
  global.SandboxStripe = SandboxStripe;
})(window);
"""


def _index() -> str:
    rows = "".join(
        f"<tr><td><code>{escape(card.token)}</code></td><td>{escape(card.brand)} "
        f"&middot;&middot;&middot;{escape(card.last4)}</td><td>{escape(card.note)}</td></tr>"
        for card in TEST_CARDS.values()
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eventpay Stripe sandbox</title></head>
<body style="font-family:sans-serif;max-width:48rem;margin:2rem auto">
<h1>eventpay Stripe sandbox</h1>
<p>An offline emulator of the part of Stripe's API eventpay uses, for tests and demos only.
Point the official SDK at this server (<code>base_addresses</code>) with any
<code>sk_test_...</code> key; browsers use <code>pk_test_...</code> keys with
<a href="/js/sandbox-stripe.js">/js/sandbox-stripe.js</a>.</p>
<h2>Test payment methods</h2>
<table><tr><th>payment_method</th><th>card</th><th>behaviour</th></tr>{rows}</table>
<h2>Routes</h2>
<p><code>/v1/payment_intents</code>, <code>/v1/charges</code>, <code>/v1/refunds</code>,
<code>/v1/events</code>,
<code>/v1/webhook_endpoints</code>; 3-D Secure at <code>/sandbox/3ds/{{payment_intent}}</code>;
test controls under <code>/_sandbox/</code> (reset, deliveries, faults).</p>
</body></html>
"""


async def index(request: Request) -> Response:
    return HTMLResponse(_index())


async def script(request: Request) -> Response:
    return Response(SCRIPT, media_type="application/javascript")


def browser_routes() -> list[Route]:
    return [
        Route("/", index, methods=["GET"]),
        Route("/js/sandbox-stripe.js", script, methods=["GET"]),
    ]
