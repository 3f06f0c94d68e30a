"""Every model module, imported so that Model.metadata knows all tables."""
from .audit import AuditLog  # noqa: F401
from .deux_facteurs import CodeSecours, DeuxFacteurs  # noqa: F401
from .candidature import Candidat, Candidature, HistoriqueStatut  # noqa: F401
from .evaluation import Document, Evaluation, Formation, ResultatEvaluation  # noqa: F401
from .habilitation import Habilitation  # noqa: F401
from .jury import (Certificat, CompteurCertificat, DecisionJury, EnvoiCertificat,  # noqa: F401
                   LotEnvoi, MembreJury, SessionJury)
from .rattachement import Rattachement  # noqa: F401
from .motif import MotifType  # noqa: F401
from .export import ExportJob  # noqa: F401
from .notification import (Actualite, EmailMessage, JobLock, Notification,  # noqa: F401
                           PreferenceNotification)
from .session import AttemptCounter, PasswordHistory, UserSession  # noqa: F401
from .referentiel import Critere, Domaine, Referentiel, SousDomaine  # noqa: F401
from .structure import REGIONS, Branche, Certificateur, Etablissement, Organisme, Reseau  # noqa: F401
from .utilisateur import AccountToken, Utilisateur  # noqa: F401
from .agregats import (StatsAcquisition, StatsCompteurs, StatsDossier, StatsFluxJour,  # noqa: F401
                       StatsFluxMois)
from flask_appbuilder.security.sqla.models import Role as FabRole  # noqa: F401,E402
