"""The fan-facing pages: platform home, shop, product, cart, checkout, order and account."""
