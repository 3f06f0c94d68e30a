"""REST API under /api/v1/ (DESIGN.md §9)."""
from __future__ import annotations

from .audit import AuditApi
from .candidatures import CandidatApi, CandidatureApi, RattachementApi, RechercheApi
from .certification import CertificatApi, EnvoiApi, JuryApi
from .evaluations import DocumentApi, EvaluationApi, FormationApi
from .stats import StatsApi
from .notifications import ActualiteApi, NotificationApi
from .rgpd import DonneesPersonnellesApi
from .structure import (EtablissementApi, HabilitationApi, OrganismeApi, ReseauApi,
                        UtilisateurApi)

APIS = (ReseauApi, OrganismeApi, EtablissementApi, UtilisateurApi, HabilitationApi,
        NotificationApi, ActualiteApi, CandidatureApi, CandidatApi, RechercheApi,
        RattachementApi, EvaluationApi, FormationApi, DocumentApi, JuryApi, CertificatApi,
        EnvoiApi, StatsApi, AuditApi, DonneesPersonnellesApi)


def register_apis(appbuilder) -> None:
    for api in APIS:
        appbuilder.add_api(api)
