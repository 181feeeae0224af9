"""acoustic-lab: the demo WSGI application that the Salt formulas deploy."""
