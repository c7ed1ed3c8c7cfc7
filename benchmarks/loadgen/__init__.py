"""Parts of the storefront benchmark: the server it starts, the HTTP client, the virtual buyers."""
