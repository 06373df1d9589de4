"""Delivery: email (``email.py``) and the scheduled runs (``scheduler.py``)."""
