"""The API's routers; thin: they parse, authorize and call the service parts."""
