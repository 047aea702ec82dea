"""TODO(owner): share commands."""
