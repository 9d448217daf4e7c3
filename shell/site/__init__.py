"""A site: one server of a territory, put into service and kept there (``vigie site``)."""
