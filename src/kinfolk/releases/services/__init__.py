"""Writes of releases: grants, downloads and the e-mail gate."""

from kinfolk.releases.services.grants import grant_give

__all__ = ["grant_give"]
