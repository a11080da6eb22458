"""What every resolver receives: the ports and the per-request caches."""

from __future__ import annotations

from dataclasses import dataclass, field

from resolvers.cursors import CursorCodec
from resolvers.loaders import Loaders
from store.port import Store


@dataclass
class RequestContext:
    store: Store
    cursors: CursorCodec
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store)
