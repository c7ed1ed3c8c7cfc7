"""A built-in simulated card processor: the outside world, standing in for a real gateway.

It knows nothing of shops, orders or the catalogue; merchants use it like a client SDK:
``services.charge_create`` → send the buyer to ``Charge.get_absolute_url()`` → trust only the
signed callback (``signature.verify``).
"""
