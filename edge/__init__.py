"""Edge agent for Raspberry Pi-class boards: batching, publishing, store-and-forward."""
