"""Article content: text to HTML, sanitising, slugs, XML-safe text."""
