"""troposphere code for the Phase Mirror environment: one module per service, `root` nests them.

Every module exposes `template(cfg) -> Template`, a pure function of the environment's config.
Nothing here runs or prints at import.
"""
