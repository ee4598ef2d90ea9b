"""Table models. Import :mod:`shared.db.tables` to register every one of them."""
