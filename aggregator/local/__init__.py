"""The local stack: moto in server mode, the production template, and a runner that plays Lambda."""
