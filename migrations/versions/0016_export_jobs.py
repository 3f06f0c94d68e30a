"""export jobs: the queue of exports prepared off the request

export_job: who asked (user_id), the kind (parcours, registre, facturation) and its filters
(JSON), the status (en_attente, en_cours, prete, echouee, expiree), the rows done out of the
total, the file's name once ready, the French error message of a failure, the claiming
process, and created / started / updated (progress) / finished / expiry times.

Revision ID: 14c0exports
Revises: 14a0perimeter
Create Date: 2026-12-01 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14c0exports'
down_revision = '14a0perimeter'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filtres', sa.Text(), nullable=False),
    sa.Column('statut', sa.String(length=12), nullable=False),
    sa.Column('lignes_faites', sa.Integer(), nullable=False),
    sa.Column('lignes_total', sa.Integer(), nullable=True),
    sa.Column('fichier', sa.String(length=255), nullable=True),
    sa.Column('erreur', sa.Text(), nullable=True),
    sa.Column('pris_par', sa.String(length=120), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('started_on', sa.DateTime(), nullable=True),
    sa.Column('updated_on', sa.DateTime(), nullable=True),
    sa.Column('finished_on', sa.DateTime(), nullable=True),
    sa.Column('expire_le', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='export_job_user_id_fkey',
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index('ix_export_job_user_created', ['user_id', 'created_on'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_statut'), ['statut'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_job_expire_le'), ['expire_le'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_job_expire_le'))
        batch_op.drop_index(batch_op.f('ix_export_job_statut'))
        batch_op.drop_index('ix_export_job_user_created')
    op.drop_table('export_job')
