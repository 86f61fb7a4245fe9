"""The pure domain: no AWS calls, plain values in, decisions out."""
