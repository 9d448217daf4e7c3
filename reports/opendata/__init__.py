"""Open data: aggregated, privacy-safe exports with their metadata."""
