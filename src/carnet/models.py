"""Imports every model module so that ``Base.metadata`` knows all tables (Alembic, purge)."""

from carnet.accounts import models as accounts
from carnet.agenda import models as agenda
from carnet.apps import models as apps
from carnet.audit import models as audit
from carnet.authorizations import models as authorizations
from carnet.documents import models as documents
from carnet.messaging import models as messaging
from carnet.notifications import models as notifications
from carnet.patients import models as patients
from carnet.professionals import models as professionals
from carnet.profile import models as profile
from carnet.records import models as records
from carnet.systems import models as systems

__all__ = [
    "accounts",
    "agenda",
    "apps",
    "audit",
    "authorizations",
    "documents",
    "messaging",
    "notifications",
    "patients",
    "professionals",
    "profile",
    "records",
    "systems",
]
