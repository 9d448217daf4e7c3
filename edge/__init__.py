"""Edge agent for Raspberry Pi-class boards: batching, publishing, store-and-forward."""

# what other packages use: batching and publishing (simulators), the agent's command
__all__ = ["batcher", "cli", "drivers", "publisher"]
