"""TODO(owner): core commands."""
