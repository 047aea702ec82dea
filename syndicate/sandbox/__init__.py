"""A local stand-in for the Facebook, X, Reddit and LinkedIn APIs, with fault knobs.

``Sandbox(port=0).start()`` serves, on 127.0.0.1, the endpoints the adapters call under
``/facebook``, ``/x``, ``/reddit`` and ``/linkedin``, answering with the documented
success and error bodies (docs/social.md §3–§4), detecting duplicates, listing posts for
reconciliation, and logging every request (``GET /__requests``; secrets redacted).
Fault knobs (``POST /__faults`` or :meth:`Sandbox.set_faults`), applied to posting calls:

* ``latency_ms`` (every call), ``error_rate`` (0–1: 502 Bad Gateway, seeded by ``seed``;
  ``error_accepts`` records the post first), ``rate_limit`` (the next N posts get the
  network's 429 with its reset headers, ``reset_s`` ahead), ``usage_capped`` (X: the next
  N posts get the usage-cap 429), ``timeout_after_accept`` (the next N posts are recorded,
  then the answer stalls ``stall_s`` seconds, or the connection is dropped when
  ``drop`` is true), ``auth_fail`` (credentials — token, consumer key, username… — that
  get the network's 401), ``retired_versions`` (LinkedIn-Version values answered 426),
  and ``networks`` (limit the faults to these networks).

Modules: :mod:`.server` (HTTP server, admin endpoints, request log), :mod:`.state`
(memory and fault knobs), :mod:`.common` (request/reply types, the posting flow), and one
module per fake network (:mod:`.facebook`, :mod:`.x`, :mod:`.reddit`, :mod:`.linkedin`).
"""
