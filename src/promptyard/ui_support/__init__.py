"""Helpers that exist only for the pages: the home overview and the settings information."""
