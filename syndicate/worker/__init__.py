"""The worker process: the scheduler and its ticks."""
