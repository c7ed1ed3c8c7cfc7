"""Writes of the orders app, split by concern: cart, checkout, lifecycle, payments."""
