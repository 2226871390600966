"""The sans-IO core: request builders, response parsers and protocol rules.

Nothing in this package sends a request, sleeps, reads a clock or touches a
store; every function takes what it needs (including ``now``) as parameters.
"""
