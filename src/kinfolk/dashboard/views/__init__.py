"""The maker's dashboard pages (``dashboard`` URL namespace)."""
