"""Feeds: rendering RSS 2.0, Atom 1.0 and JSON Feed 1.1, and the fragment cache."""
