"""The cache port (memcache's job): read-through in front of the store, invalidated
on write. `port` holds the protocol and its versioning rule; `memory` and `redis`
the adapters; `store` the read-through layer; `wiring` the choice from settings."""
