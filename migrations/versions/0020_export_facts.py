"""export facts: what the parcours export shows of a dossier, kept with its Stats facts

stats_dossier gains the last finalized evaluation's type and result, its results as two
masks (bit i: the i-th sous-domaine of the référentiel, acquis / non acquis), the hours of
formation, the last jury decision and the certificate's number, kept in the transactions that
change them (services/agregats.py): the export reads them instead of recomputing them from
the evaluations, results, decisions, formations and certificates of each batch. The upgrade
recomputes every aggregate from the sources (at a million dossiers: minutes, once).

Revision ID: 16a0export
Revises: 15a0naissance
Create Date: 2026-12-02 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16a0export'
down_revision = '15a0naissance'
branch_labels = None
depends_on = None

COLONNES = (
    ('derniere_type', sa.String(length=10)),
    ('derniere_resultat', sa.String(length=12)),
    ('masque_acquis', sa.BigInteger()),
    ('masque_non_acquis', sa.BigInteger()),
    ('heures', sa.Float()),
    ('derniere_decision', sa.String(length=15)),
    ('certificat_numero', sa.String(length=20)),
)


def upgrade():
    with op.batch_alter_table('stats_dossier') as batch:
        for name, kind in COLONNES:
            batch.add_column(sa.Column(name, kind, nullable=True))
    from app.services import agregats

    agregats.recalculer_sur(op.get_bind())


def downgrade():
    with op.batch_alter_table('stats_dossier') as batch:
        for name, _kind in COLONNES:
            batch.drop_column(name)
