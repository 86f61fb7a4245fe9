"""Randomised fault schedules run against the real functions on moto, and what must hold after them."""
