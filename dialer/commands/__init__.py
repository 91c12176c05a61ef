"""Click commands, one module per concern; `cli.py` registers them."""
