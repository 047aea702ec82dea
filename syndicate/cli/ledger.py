"""TODO(owner): ledger commands."""
