"""Deprecated alias of :mod:`django_upscope.resources`, kept for old imports.

The typed results are now ``VisitorData``, ``SessionData``, ``AgentData`` and
``TeamData``, so that they no longer share names with the mirror's models.
"""

from .resources import (
    AgentData as Agent,
)
from .resources import (
    SessionData as Session,
)
from .resources import (
    TeamData as Team,
)
from .resources import (
    Usage,
    WatchURL,
    parse_datetime,
    visitor_from_detail_payload,
    visitors_from_list_payload,
)
from .resources import (
    VisitorData as Visitor,
)

__all__ = [
    "Agent",
    "Session",
    "Team",
    "Usage",
    "Visitor",
    "WatchURL",
    "parse_datetime",
    "visitor_from_detail_payload",
    "visitors_from_list_payload",
]
