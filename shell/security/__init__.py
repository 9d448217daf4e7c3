"""Device identities, broker access control and credentials: who may say what."""
