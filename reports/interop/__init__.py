"""Vigie's data in the shapes other systems read: NGSI-LD entities following the Smart Data
Models (files, or pushed to a context broker), checked against the published schemas kept in
``schemas/`` with their licences."""
