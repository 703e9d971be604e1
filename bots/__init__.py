"""Channel adapters, one package per provider, behind one contract (``bots.contract``)."""
