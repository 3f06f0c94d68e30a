"""Every model module, imported so that Model.metadata knows all tables."""
from .audit import AuditLog  # noqa: F401
from .notification import EmailMessage  # noqa: F401
from .referentiel import Critere, Domaine, Referentiel, SousDomaine  # noqa: F401
from .structure import REGIONS, Branche, Certificateur, Etablissement, Organisme, Reseau  # noqa: F401
from .utilisateur import AccountToken, Utilisateur  # noqa: F401
