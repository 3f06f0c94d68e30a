"""standard motives as data (Certif Pro edits them), and the index that finds the
notifications about a request when it is decided

Revision ID: 16d0motifs
Revises: 16c0pvhash
Create Date: 2026-12-04 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16d0motifs'
down_revision = '16c0pvhash'
branch_labels = None
depends_on = None

MOTIFS = [
    ("habilitation", "Dossier incomplet",
     "La demande est incomplète : transmettez les pièces manquantes puis renouvelez votre "
     "demande."),
    ("habilitation", "Locaux non conformes",
     "Les locaux de l'établissement ne permettent pas d'accueillir les candidats dans les "
     "conditions du référentiel CléA."),
    ("habilitation", "Évaluateurs non formés",
     "Aucun évaluateur de l'établissement n'a suivi la formation à l'évaluation CléA."),
    ("rattachement", "Dossier actif dans son établissement",
     "Le dossier est suivi activement par son établissement d'origine : rapprochez-vous de "
     "lui avant toute nouvelle demande."),
    ("rattachement", "Justification insuffisante",
     "La demande ne dit pas pourquoi le candidat change d'établissement."),
    ("jury", "Domaine non maîtrisé",
     "Les résultats ne montrent pas la maîtrise de tous les sous-domaines du référentiel."),
    ("jury", "Pièce manquante",
     "Le dossier ne contient pas toutes les pièces attendues : joignez-les et renvoyez-le."),
]


def upgrade():
    table = op.create_table(
        'motif_type',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contexte', sa.String(length=20), nullable=False),
        sa.Column('libelle', sa.String(length=120), nullable=False),
        sa.Column('texte', sa.Text(), nullable=False),
        sa.Column('ordre', sa.Integer(), nullable=False),
        sa.Column('actif', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_motif_type_contexte', 'motif_type', ['contexte', 'actif', 'ordre'])
    op.create_index('ix_notification_lien', 'notification', ['lien'])
    op.bulk_insert(table, [
        {"contexte": contexte, "libelle": libelle, "texte": texte, "ordre": i, "actif": True}
        for i, (contexte, libelle, texte) in enumerate(MOTIFS)])


def downgrade():
    op.drop_index('ix_notification_lien', table_name='notification')
    op.drop_index('ix_motif_type_contexte', table_name='motif_type')
    op.drop_table('motif_type')
