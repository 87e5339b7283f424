"""HTTP routes, one module per resource; each translates HTTP to one service call."""
