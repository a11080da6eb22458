"""The resolver Info type, bound to our request context."""

from strawberry.types import Info as StrawberryInfo

from resolvers.context import RequestContext

Info = StrawberryInfo[RequestContext, None]
