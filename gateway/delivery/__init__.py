"""Push delivery of the outbox: the worker that claims due rows and the registry of deliverers.

The deliverers themselves live in the top-level `adapters` package, which the gateway never imports: the
configuration (ZVAROT_DELIVERERS) names them and gateway.delivery.registry loads them by name.
"""
