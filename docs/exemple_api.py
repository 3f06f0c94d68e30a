#!/usr/bin/env python3
"""Exemple complet d'intégration de l'API REST de la plateforme CléA (docs/api.md).

Le parcours d'un organisme de formation, de bout en bout, par l'API seule :

 1. se connecter (POST /api/v1/security/login) et garder le jeton ;
 2. trouver l'établissement (celui du compte, ou --etablissement) ;
 3. télécharger le modèle d'import de cet établissement et lire ses en-têtes ;
 4. remplir quelques lignes, au format .csv, sous ces en-têtes ;
 5. importer en deux temps : vérifier le fichier et lire le rapport, puis confirmer ;
 6. pour le premier dossier créé : créer l'évaluation préalable, remplir sa grille (les 28
    sous-domaines, l'évaluateur, la date), déposer la matrice, finaliser ;
 7. envoyer le dossier en certification.

Chaque étape est affichée ; au premier refus, le script s'arrête et affiche le message
français de l'API (`message`, et `details` s'il y en a).

Utilise seulement `requests` et la bibliothèque standard. Aucun secret dans ce fichier :
l'adresse, l'identifiant et le mot de passe viennent de la ligne de commande ou de
l'environnement (CLEA_URL, CLEA_UTILISATEUR, CLEA_MOT_DE_PASSE, CLEA_CODE,
CLEA_ETABLISSEMENT). Contre la plateforme de démonstration (`make run`) :

    python docs/exemple_api.py --url http://127.0.0.1:8080 \\
        --utilisateur utilisateur.etablissement --mot-de-passe 'CleaDemo2026!'

Attention : le script crée de vrais dossiers. Lancez-le sur une plateforme de recette, pas
en production.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import io
import os
import random
import string
import sys
import unicodedata
import uuid
import zipfile
from xml.etree import ElementTree

import requests

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUTS = {  # les codes de statut que ce parcours rencontre, et leur libellé à l'écran
    "attente_eval_prealable": "En attente d'évaluation préalable",
    "attente_eval_finale": "En attente d'évaluation finale",
    "a_envoyer": "À envoyer en certification",
    "attente_jury": "En attente de jury",
    "attente_certification": "En attente de certification",
}
TYPES = {"prealable": "préalable", "finale": "finale"}
RESULTATS = {"valide": "Validé", "non_valide": "Non validé"}


class Refus(Exception):
    """Une réponse que l'étape n'attendait pas : le statut HTTP et le message de l'API."""

    def __init__(self, etape: str, reponse: requests.Response):
        self.etape, self.statut = etape, reponse.status_code
        try:
            corps = reponse.json()
        except ValueError:
            corps = {}
        if not isinstance(corps, dict):
            corps = {}
        message = corps.get("message") or reponse.text[:300] or reponse.reason
        if isinstance(message, dict):  # un corps mal formé : {champ: [raisons]}
            message = " ; ".join(f"{k} : {v}" for k, v in message.items())
        self.message, self.details = str(message), corps.get("details")
        super().__init__(f"{etape} : HTTP {self.statut} : {self.message}")


class Arret(Exception):
    """Un arrêt décidé par le script lui-même (lignes refusées, établissement à choisir)."""


class Plateforme:
    """Une session HTTP vers l'API : l'adresse de base, le jeton, et un appel qui vérifie le
    statut attendu (sinon `Refus`)."""

    def __init__(self, url: str, delai: float = 60):
        self.url = url.rstrip("/") + "/api/v1"
        self.delai = delai
        self.http = requests.Session()
        self.http.headers["Accept"] = "application/json"

    def appel(self, etape: str, methode: str, chemin: str, attendu: int = 200,
              **options) -> requests.Response:
        reponse = self.http.request(methode, self.url + chemin, timeout=self.delai, **options)
        if reponse.status_code != attendu:
            raise Refus(etape, reponse)
        return reponse

    def connecter(self, utilisateur: str, mot_de_passe: str, code: str | None = None) -> None:
        corps = {"username": utilisateur, "password": mot_de_passe, "provider": "db"}
        if code:  # compte à double authentification : le code de l'application
            corps["code"] = code
        jeton = self.appel("Connexion", "POST", "/security/login", json=corps).json()
        # chaque requête suivante porte le jeton (les écritures l'exigent : un cookie seul
        # est refusé)
        self.http.headers["Authorization"] = f"Bearer {jeton['access_token']}"


def etape(texte: str) -> None:
    print(f"→ {texte}", flush=True)


# --- le modèle d'import ---------------------------------------------------------------------

def _cle(texte: str) -> str:
    """Un en-tête comparé sans casse, accents ni apostrophe typographique."""
    texte = unicodedata.normalize("NFKD", texte.replace("’", "'"))
    return "".join(c for c in texte if not unicodedata.combining(c)).strip().lower()


def entetes_du_modele(contenu: bytes) -> list[str]:
    """Les en-têtes (1re ligne de la 1re feuille) du modèle .xlsx, lus avec la seule
    bibliothèque standard : un .xlsx est un zip de fichiers XML (le modèle vient de la
    plateforme elle-même). Avec openpyxl ce serait load_workbook(...).active[1]."""
    ns = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    texte_de = ("{%s}t" % ns["x"])
    with zipfile.ZipFile(io.BytesIO(contenu)) as classeur:
        partagees = []
        if "xl/sharedStrings.xml" in classeur.namelist():
            racine = ElementTree.fromstring(classeur.read("xl/sharedStrings.xml"))
            partagees = ["".join(t.text or "" for t in si.iter(texte_de))
                         for si in racine.findall("x:si", ns)]
        feuille = ElementTree.fromstring(classeur.read("xl/worksheets/sheet1.xml"))
    premiere = feuille.find("x:sheetData/x:row", ns)
    entetes = []
    for cellule in premiere.findall("x:c", ns) if premiere is not None else []:
        if cellule.get("t") == "s":
            entetes.append(partagees[int(cellule.findtext("x:v", "0", ns))])
        elif cellule.get("t") == "inlineStr":
            entetes.append("".join(t.text or "" for t in cellule.iter(texte_de)))
        else:
            entetes.append(cellule.findtext("x:v", "", ns))
    return entetes


def candidats(nombre: int) -> list[dict[str, str]]:
    """Quelques candidats fictifs, par en-tête du modèle. Leur nom porte un lot tiré au
    hasard et leur date de naissance est tirée aussi : relancé, le script ne recrée pas les
    mêmes personnes (la plateforme refuserait des doublons et des homonymes). Tout ce que
    l'envoi en certification demande y est : identité, lieu de naissance, e-mail, adresse."""
    lot = "".join(random.choices(string.ascii_uppercase, k=5))
    prenoms = ["Léa", "Karim", "Inès", "Julien", "Awa", "Thomas", "Nadia", "Hugo"]
    lignes = []
    for i in range(nombre):
        prenom = prenoms[i % len(prenoms)]
        naissance = dt.date(1965, 1, 1) + dt.timedelta(days=random.randrange(35 * 365))
        nom = f"Exemple-{lot}"
        lignes.append({
            "Civilité": "Mme" if i % 2 == 0 else "M.",  # un code, ou son libellé (« Madame »)
            "Nom de naissance": nom,
            "Prénom(s)": prenom,
            "Date de naissance": naissance.strftime("%d/%m/%Y"),  # JJ/MM/AAAA
            "Commune de naissance": "Paris",
            "Département de naissance": "75",
            "Adresse e-mail": f"{_cle(prenom)}.{nom.lower()}@exemple.fr",
            "Adresse": f"{10 + i} rue de la Formation",
            "Code postal": "75011",
            "Ville": "Paris",
            "Type de public": "demandeur_emploi",
            "Statut à l'inscription": "Demandeur d'emploi",  # le libellé vaut le code
            "Niveau de formation": "3",
            "Origine de la démarche": "france_travail",
            "Objectif professionnel": "Accéder à un emploi d'agent logistique en entrepôt, "
                                      "avec des bases solides en calcul et en écrit.",
            "Objectif extra-professionnel": "Gagner en autonomie dans les démarches "
                                            "administratives et numériques du quotidien.",
            "Certificat papier (oui / non)": "non",
        })
    return lignes


def fichier_csv(entetes: list[str], lignes: list[dict[str, str]]) -> bytes:
    """Le .csv à importer : les en-têtes du modèle, dans son ordre, séparés par « ; » ; une
    colonne que l'exemple ne connaît pas (la branche, pour un établissement habilité pour une
    branche) reste vide. En UTF-8 avec BOM, comme l'enregistre un tableur."""
    par_cle = [{_cle(k): v for k, v in ligne.items()} for ligne in lignes]
    sortie = io.StringIO()
    ecrivain = csv.writer(sortie, delimiter=";", lineterminator="\n")
    ecrivain.writerow(entetes)
    for ligne in par_cle:
        ecrivain.writerow([ligne.get(_cle(entete), "") for entete in entetes])
    return sortie.getvalue().encode("utf-8-sig")


# --- le parcours ---------------------------------------------------------------------------

def trouver_etablissement(api: Plateforme, choisi: int | None) -> dict:
    """L'établissement choisi, ou le seul du périmètre du compte (un utilisateur
    d'établissement) : GET /api/v1/etablissement/ ne rend que le périmètre."""
    if choisi:
        return api.appel("Établissement", "GET", f"/etablissement/{choisi}").json()["result"] \
            | {"id": choisi}
    liste = api.appel("Établissement", "GET", "/etablissement/",
                      params={"q": "(page_size:2)"}).json()
    if liste["count"] != 1:
        raise Arret(f"Votre périmètre compte {liste['count']} établissements : "
                         "choisissez-le avec --etablissement <id>.")
    return liste["result"][0] | {"id": liste["ids"][0]}


def parcours(api: Plateforme, etablissement_id: int | None, nombre: int, evaluateur: str,
             matrice: str | None) -> dict:
    """Le parcours complet ; rend les identifiants de ce qu'il a créé."""
    etab = trouver_etablissement(api, etablissement_id)
    etape(f"Établissement : {etab['nom']} (n° {etab['id']})")

    # Le modèle d'import : ses colonnes suivent les habilitations de l'établissement
    modele = api.appel("Modèle d'import", "GET", "/candidature/import/modele",
                       params={"etablissement_id": etab["id"]})
    entetes = entetes_du_modele(modele.content)
    etape(f"Modèle d'import téléchargé : {len(entetes)} colonnes")

    # Étape 1 de l'import : le fichier est vérifié ligne par ligne, rien n'est créé
    contenu = fichier_csv(entetes, candidats(nombre))
    rapport = api.appel(
        "Import, vérification", "POST", "/candidature/import",
        data={"etablissement_id": str(etab["id"])},
        files={"fichier": ("candidats.csv", contenu, "text/csv")}).json()
    etape(f"Import vérifié : {rapport['lignes']} ligne(s), {rapport['valides']} valide(s), "
          f"{rapport['refusees']} refusée(s)")
    for ligne in rapport["rapport"]:
        detail = "valide" if ligne["statut"] == "valide" else \
            f"refusée ({ligne['colonne'] or '—'}) : {ligne['motif']}"
        print(f"    ligne {ligne['ligne']} — {ligne['nom']} : {detail}")
    if rapport["refusees"]:
        raise Arret("Des lignes sont refusées : corrigez le fichier et recommencez "
                         "(rien n'a été créé).")

    # Étape 2 : confirmer dans l'heure ; « tout_ou_rien » : une ligne refusée entre-temps
    # (un candidat inscrit par ailleurs) et rien n'est créé
    cree = api.appel("Import, confirmation", "POST",
                     f"/candidature/import/{rapport['id']}/confirmer", attendu=201,
                     json={"tout_ou_rien": True}).json()
    ids = cree["ids"]
    etape(f"Import confirmé : {cree['crees']} dossier(s) créé(s) (n° "
          f"{', '.join(map(str, ids))})")
    dossier = ids[0]

    # L'évaluation préalable du premier dossier : une grille de 28 sous-domaines vides
    evaluation = api.appel("Création de l'évaluation", "POST", "/evaluation/", attendu=201,
                           json={"candidature_id": dossier}).json()
    ev_id, version = evaluation["id"], evaluation["result"]["version"]
    etape(f"Évaluation n° {ev_id} créée pour le dossier n° {dossier} "
          f"({TYPES.get(evaluation['result']['type'], evaluation['result']['type'])}, "
          f"version {version})")

    # Remplir la grille : un brouillon enregistré avec la version lue (409 si quelqu'un
    # l'a enregistrée entre-temps) ; ici tous les sous-domaines sont acquis
    lignes = api.appel("Lecture de la grille", "GET", f"/evaluation/{ev_id}/resultats"
                       ).json()["result"]
    brouillon = api.appel("Enregistrement de la grille", "PUT", f"/evaluation/{ev_id}", json={
        "version": version, "evaluateur": evaluateur,
        "date_evaluation": dt.date.today().isoformat(),
        "resultats": {str(r["sous_domaine_id"]): {"acquis": True} for r in lignes}}).json()
    etape(f"Grille enregistrée : {len(lignes)} sous-domaines acquis, évaluateur "
          f"« {evaluateur} » (version {brouillon['result']['version']})")

    # La matrice d'évaluation complétée et signée, exigée pour finaliser. À défaut d'un
    # fichier signé (--matrice), l'exemple dépose la matrice que la plateforme génère.
    if matrice:
        with open(matrice, "rb") as signee:
            nom, octets = os.path.basename(matrice), signee.read()
    else:
        nom = "matrice.xlsx"
        octets = api.appel("Matrice", "GET", f"/evaluation/{ev_id}/matrice").content
    document = api.appel(
        "Dépôt de la matrice", "POST", "/document/", attendu=201,
        # rejouée avec la même clé (réponse perdue), la requête rend le même document
        headers={"Idempotency-Key": uuid.uuid4().hex},
        data={"candidature_id": str(dossier), "evaluation_id": str(ev_id),
              "nature": "matrice"},
        files={"fichier": (nom, octets)}).json()
    etape(f"Matrice déposée : document n° {document['id']} "
          f"({document['result']['nom_original']})")

    # Finaliser : refusé (400) avec la liste de ce qui manque
    finale = api.appel("Finalisation", "POST", f"/evaluation/{ev_id}/finaliser").json()
    resultat = finale["result"]["resultat"]
    etape(f"Évaluation finalisée : {RESULTATS.get(resultat, resultat)}")

    # Envoyer en certification : au jury Transitions Pro de la région (ou à la CPNE)
    envoi = api.appel("Envoi en certification", "POST", f"/candidature/{dossier}/envoyer"
                      ).json()
    statut = envoi["result"]["statut"]
    etape(f"Dossier n° {dossier} envoyé en certification : « {STATUTS.get(statut, statut)} »")
    return {"etablissement_id": etab["id"], "dossiers": ids, "dossier": dossier,
            "evaluation": ev_id, "document": document["id"], "statut": statut}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    lire = argparse.ArgumentParser(
        description="Exemple d'intégration de l'API CléA : importer des candidatures, "
                    "finaliser une évaluation, envoyer le dossier en certification.")
    lire.add_argument("--url", default=env("CLEA_URL", "http://127.0.0.1:8080"),
                      help="adresse de la plateforme (CLEA_URL ; http://127.0.0.1:8080)")
    lire.add_argument("--utilisateur", default=env("CLEA_UTILISATEUR"),
                      help="identifiant du compte (CLEA_UTILISATEUR)")
    lire.add_argument("--mot-de-passe", default=env("CLEA_MOT_DE_PASSE"),
                      help="mot de passe (CLEA_MOT_DE_PASSE ; demandé s'il manque)")
    lire.add_argument("--code", default=env("CLEA_CODE"),
                      help="code de double authentification, si le compte en a une")
    lire.add_argument("--etablissement", type=int, default=env("CLEA_ETABLISSEMENT"),
                      help="id de l'établissement (par défaut : le seul de votre périmètre)")
    lire.add_argument("--lignes", type=int, default=3, choices=range(1, 51),
                      metavar="1-50", help="nombre de candidats à importer (3)")
    lire.add_argument("--evaluateur", default="Camille Évaluatrice",
                      help="nom de l'évaluateur inscrit sur la grille")
    lire.add_argument("--matrice", help="la matrice signée à déposer (PDF, image ou .xlsx)")
    options = lire.parse_args(argv)
    if not options.utilisateur:
        lire.error("indiquez --utilisateur (ou CLEA_UTILISATEUR)")
    if not options.mot_de_passe:
        if not sys.stdin.isatty():
            lire.error("indiquez --mot-de-passe (ou CLEA_MOT_DE_PASSE)")
        options.mot_de_passe = getpass.getpass("Mot de passe : ")
    return options


def main(argv: list[str] | None = None) -> int:
    """0 : tout le parcours a réussi ; 1 : un refus (de l'API, son message affiché, ou du
    script) ; 2 : la plateforme n'a pas répondu."""
    options = arguments(argv)
    api = Plateforme(options.url)
    try:
        api.connecter(options.utilisateur, options.mot_de_passe, options.code)
        etape(f"Connecté à {options.url} en tant que {options.utilisateur}")
        parcours(api, options.etablissement, options.lignes, options.evaluateur,
                 options.matrice)
    except Refus as refus:
        print(f"✗ {refus.etape} refusée (HTTP {refus.statut}) : {refus.message}",
              file=sys.stderr)
        details = refus.details if isinstance(refus.details, dict) else {}
        for champ, raison in details.items():
            print(f"    {champ} : {raison}", file=sys.stderr)
        return 1
    except Arret as arret:
        print(f"✗ {arret}", file=sys.stderr)
        return 1
    except requests.RequestException as erreur:  # (avant OSError, dont elle hérite)
        print(f"✗ La plateforme {options.url} ne répond pas : {erreur}", file=sys.stderr)
        return 2
    except OSError as erreur:  # le fichier de --matrice introuvable ou illisible
        print(f"✗ Fichier illisible : {erreur}", file=sys.stderr)
        return 1
    print("Parcours terminé.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
