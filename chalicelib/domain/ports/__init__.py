"""Ports: what the domain needs from the outside world, one module per area. Adapters implement them.

One naming scheme: storage is a `*Store`; every conditional write that can lose a race answers with the
one `WriteResult`.
"""
