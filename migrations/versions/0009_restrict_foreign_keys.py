"""restrict foreign keys: a row that others point to cannot be deleted under them

Every foreign key towards a structure (réseau, organisme, établissement, certificateur,
branche), a person, a jury session, the référentiel, or a dossier's evaluations, formations,
documents, decisions and certificate becomes ON DELETE RESTRICT: the database refuses to
orphan rows (or to take a certified dossier's certificate away) whatever the route. The
services delete what a dossier truly owns themselves (its draft evaluation, documents,
formations, past rattachement requests) before the dossier. Rows that only make sense with
their parent keep ON DELETE CASCADE: a dossier's status history, an evaluation's results, a
formation's sous-domaines, a session's members.

SQLite: the tables are rebuilt (batch mode) with foreign key enforcement switched off by
migrations/env.py; the unnamed foreign keys of the earlier migrations are found through the
naming convention below, which is also PostgreSQL's default name, so both databases end
with the same constraint names.

Revision ID: e3ca4a9a00d2
Revises: 3314529532b2
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3ca4a9a00d2'
down_revision = '3314529532b2'
branch_labels = None
depends_on = None

# PostgreSQL's name for an unnamed foreign key; given to SQLite's unnamed ones when reflected.
NAMING = {"fk": "%(table_name)s_%(column_0_name)s_fkey"}

# (table, column, referred table, constraint name or None for the default, ondelete before)
FOREIGN_KEYS = (
    ("organisme", "reseau_id", "reseau", None, None),
    ("etablissement", "organisme_id", "organisme", None, None),
    ("ab_user", "reseau_id", "reseau", None, None),
    ("ab_user", "organisme_id", "organisme", None, None),
    ("ab_user", "etablissement_id", "etablissement", None, None),
    ("ab_user", "certificateur_id", "certificateur", None, None),
    ("certificateur", "branche_id", "branche", None, None),
    ("domaine", "referentiel_id", "referentiel", None, None),
    ("sous_domaine", "domaine_id", "domaine", None, None),
    ("critere", "sous_domaine_id", "sous_domaine", None, None),
    ("habilitation", "etablissement_id", "etablissement", None, None),
    ("habilitation", "branche_id", "branche", None, None),
    ("habilitation", "renouvellement_de_id", "habilitation", None, None),
    ("candidature", "candidat_id", "candidat", None, None),
    ("candidature", "etablissement_id", "etablissement", None, None),
    ("candidature", "branche_id", "branche", None, None),
    ("candidature", "certificateur_id", "certificateur", "fk_candidature_certificateur", None),
    ("candidature", "session_jury_id", "session_jury", "fk_candidature_session_jury", None),
    ("rattachement", "candidature_id", "candidature", None, "CASCADE"),
    ("rattachement", "etablissement_origine_id", "etablissement", None, None),
    ("rattachement", "etablissement_cible_id", "etablissement", None, None),
    ("evaluation", "candidature_id", "candidature", None, "CASCADE"),
    ("evaluation", "referentiel_id", "referentiel", None, None),
    ("resultat_evaluation", "sous_domaine_id", "sous_domaine", None, None),
    ("formation", "candidature_id", "candidature", None, "CASCADE"),
    ("formation_sous_domaine", "sous_domaine_id", "sous_domaine", None, None),
    ("document", "candidature_id", "candidature", None, "CASCADE"),
    ("document", "evaluation_id", "evaluation", None, "CASCADE"),
    ("document", "formation_id", "formation", None, "CASCADE"),
    ("session_jury", "certificateur_id", "certificateur", None, None),
    ("decision_jury", "candidature_id", "candidature", "fk_decision_candidature", "CASCADE"),
    ("decision_jury", "session_jury_id", "session_jury", "fk_decision_session", None),
    ("certificat", "candidature_id", "candidature", "fk_certificat_candidature", "CASCADE"),
    ("certificat", "session_jury_id", "session_jury", "fk_certificat_session", None),
    ("certificat", "certificateur_id", "certificateur", "fk_certificat_certificateur", None),
    ("envoi_certificat", "certificat_id", "certificat", "fk_envoi_certificat", "CASCADE"),
    ("envoi_certificat", "lot_id", "lot_envoi", "fk_envoi_lot", None),
)


def _by_table():
    tables: dict[str, list] = {}
    for table, column, referred, name, before in FOREIGN_KEYS:
        tables.setdefault(table, []).append(
            (column, referred, name or f"{table}_{column}_fkey", before))
    return tables


def _recreate(ondelete_of):
    """Drop and recreate each listed foreign key with `ondelete_of(before)`; one rebuild per
    table on SQLite."""
    for table, keys in _by_table().items():
        with op.batch_alter_table(table, naming_convention=NAMING) as batch_op:
            for column, referred, name, before in keys:
                batch_op.drop_constraint(name, type_="foreignkey")
                batch_op.create_foreign_key(name, referred, [column], ["id"],
                                            ondelete=ondelete_of(before))


def upgrade():
    _recreate(lambda before: "RESTRICT")


def downgrade():
    _recreate(lambda before: before)
