"""shipments: the tracking number of a letter, a returned letter (date, reason, what the
post said) and its re-shipping (the posting it replaces, and why)

Revision ID: 16e0retours
Revises: 16d0motifs
Create Date: 2026-12-04 02:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16e0retours'
down_revision = '16d0motifs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('envoi_certificat') as batch:
        batch.add_column(sa.Column('numero_suivi', sa.String(length=60), nullable=True))
        batch.add_column(sa.Column('retour_le', sa.Date(), nullable=True))
        batch.add_column(sa.Column('retour_motif', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('retour_detail', sa.Text(), nullable=True))
        batch.add_column(sa.Column('renvoi_de_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('motif_renvoi', sa.Text(), nullable=True))
        batch.create_foreign_key('fk_envoi_renvoi_de', 'envoi_certificat', ['renvoi_de_id'],
                                 ['id'], ondelete='RESTRICT')
        batch.create_index('uq_envoi_renvoi_de', ['renvoi_de_id'], unique=True)
        batch.create_index('ix_envoi_retour', ['retour_le'])


def downgrade():
    with op.batch_alter_table('envoi_certificat') as batch:
        batch.drop_index('ix_envoi_retour')
        batch.drop_index('uq_envoi_renvoi_de')
        batch.drop_constraint('fk_envoi_renvoi_de', type_='foreignkey')
        for column in ('motif_renvoi', 'renvoi_de_id', 'retour_detail', 'retour_motif',
                       'retour_le', 'numero_suivi'):
            batch.drop_column(column)
