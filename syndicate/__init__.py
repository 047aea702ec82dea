"""syndicate: articles in; valid RSS, Atom and JSON feeds and social share posts out."""

__version__ = "0.1.0"
