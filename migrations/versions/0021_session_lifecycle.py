"""session lifecycle and joint decisions: a jury session can be cancelled (the day and the
motive); its members are the jury's user accounts, one of them president; each member's
vote on a dossier is kept

Revision ID: 16b0annulation
Revises: 16a0export
Create Date: 2026-12-03 10:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16b0annulation'
down_revision = '16a0export'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('session_jury') as batch:
        batch.add_column(sa.Column('annulee_le', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('motif_annulation', sa.Text(), nullable=True))
    with op.batch_alter_table('membre_jury') as batch:
        batch.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('president', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_foreign_key('fk_membre_jury_user', 'ab_user', ['user_id'], ['id'],
                                 ondelete='SET NULL')
        batch.create_index('ix_membre_jury_user_id', ['user_id'])
    op.create_table(
        'vote_jury',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('session_jury_id', sa.Integer(), sa.ForeignKey(
            'session_jury.id', ondelete='CASCADE', name='fk_vote_session'), nullable=False),
        sa.Column('candidature_id', sa.Integer(), sa.ForeignKey(
            'candidature.id', ondelete='CASCADE', name='fk_vote_candidature'), nullable=False),
        sa.Column('membre_id', sa.Integer(), sa.ForeignKey(
            'membre_jury.id', ondelete='CASCADE', name='fk_vote_membre'), nullable=False),
        sa.Column('vote', sa.String(length=15), nullable=False),
        sa.Column('motif', sa.Text(), nullable=True),
        sa.Column('le', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('session_jury_id', 'candidature_id', 'membre_id',
                            name='uq_vote_jury_membre'))
    op.create_index('ix_vote_jury_candidature_id', 'vote_jury', ['candidature_id'])
    op.create_index('ix_vote_jury_membre_id', 'vote_jury', ['membre_id'])


def downgrade():
    op.drop_table('vote_jury')
    with op.batch_alter_table('membre_jury') as batch:
        batch.drop_index('ix_membre_jury_user_id')
        batch.drop_constraint('fk_membre_jury_user', type_='foreignkey')
        batch.drop_column('president')
        batch.drop_column('user_id')
    with op.batch_alter_table('session_jury') as batch:
        batch.drop_column('motif_annulation')
        batch.drop_column('annulee_le')
