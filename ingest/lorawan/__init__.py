"""LoRaWAN network servers as a source: their decoded uplinks become Vigie batches.

``uplinks`` reads ChirpStack v4 and The Things Stack v3 events, ``decoders`` reads the byte
formats of the device models Vigie knows natively, ``models`` maps their fields to Vigie
metrics (one data file per model), ``counters`` turns frame counters into sequence numbers,
``translate`` puts the pieces together, and ``router`` runs them inside the ingest bridge.
"""
