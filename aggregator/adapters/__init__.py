"""Adapters: one module per AWS service. Clients come from outside; AWS errors become domain errors."""
